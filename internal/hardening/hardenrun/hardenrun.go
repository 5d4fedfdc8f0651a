// Package hardenrun runs the hardening catalogue on one target through a Packer communicator:
// detect the OS and the user's rights, select the controls, render one script, run it once as
// root, stream a line per control, and turn the results into a report. golden-harden calls it to
// enforce; golden-validate can call it in audit mode on a booted image.
package hardenrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// Target is what one small command learns about the machine before anything is rendered.
type Target struct {
	OS      hardening.OSInfo
	UID     int
	User    string // the communicator's user
	CanSudo bool   // `sudo -n true` works (irrelevant for root)
	// SSHClient and SSHServer are the addresses of the connection as the target's sshd sees it
	// (SSH_CONNECTION), SSHPort its port there; empty and 0 when the communicator is not SSH.
	SSHClient, SSHServer string
	SSHPort              int
}

// BuildSSHPort is the port the firewall must keep open for the build: the one the target's sshd
// sees the build's connection arrive on, which is not the communicator's behind a port forward
// (Session Manager, a NAT, qemu's user network); the communicator's port when sshd does not say.
func (t Target) BuildSSHPort(communicator int) int {
	if t.SSHPort > 0 {
		return t.SSHPort
	}
	return communicator
}

const (
	idMarker   = "@@golden-id@@"
	connMarker = "@@golden-conn@@"
	sudoMarker = "@@golden-sudo@@"
)

// detectCommand prints os-release, the user, the SSH connection, and whether passwordless sudo
// works, in one round trip.
const detectCommand = `cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release; ` +
	`printf '\n` + idMarker + ` %s %s\n' "$(id -u)" "$(id -un)"; ` +
	`printf '` + connMarker + ` %s\n' "${SSH_CONNECTION:-}"; ` +
	`if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then echo ` + sudoMarker + `; fi`

// Detect reads the target's OS and user, and configures the runner to use sudo when the user is
// not root. It fails when the user cannot become root without a password.
func Detect(ctx context.Context, runner *remote.Runner) (Target, error) {
	stdout, stderr, status, err := runner.Exec(ctx, detectCommand)
	if err != nil {
		return Target{}, fmt.Errorf("detecting the target's OS: %w", err)
	}
	t, err := parseDetect(stdout)
	if err != nil {
		return t, fmt.Errorf("detecting the target's OS (exit status %d, %s): %w", status, strings.TrimSpace(stderr), err)
	}
	if t.UID != 0 && !t.CanSudo {
		return t, fmt.Errorf("the build user %s is not root and `sudo -n true` fails: golden-harden needs passwordless sudo", t.User)
	}
	runner.Sudo = t.UID != 0
	return t, nil
}

func parseDetect(out string) (Target, error) {
	var t Target
	osRelease, rest, found := strings.Cut(out, "\n"+idMarker+" ")
	if !found {
		return t, fmt.Errorf("unexpected answer %q", truncate(out, 300))
	}
	info, err := hardening.ParseOSRelease(osRelease)
	if err != nil {
		return t, err
	}
	t.OS = info
	idLine, tail, _ := strings.Cut(rest, "\n")
	fields := strings.Fields(idLine)
	if len(fields) != 2 {
		return t, fmt.Errorf("unexpected id line %q", idLine)
	}
	if t.UID, err = strconv.Atoi(fields[0]); err != nil {
		return t, fmt.Errorf("unexpected uid %q", fields[0])
	}
	t.User = fields[1]
	t.CanSudo = strings.Contains(tail, sudoMarker)
	// SSH_CONNECTION is "client-address client-port server-address server-port".
	for _, line := range strings.Split(tail, "\n") {
		if conn, ok := strings.CutPrefix(line, connMarker+" "); ok {
			if f := strings.Fields(conn); len(f) == 4 && net.ParseIP(f[0]) != nil && net.ParseIP(f[2]) != nil {
				t.SSHClient, t.SSHServer = f[0], f[2]
				if port, err := strconv.Atoi(f[3]); err == nil && port > 0 && port <= 65535 {
					t.SSHPort = port
				}
			}
		}
	}
	return t, nil
}

// Request is one hardening run.
type Request struct {
	Profile hardening.Profile
	Only    []string
	Include []string
	Skip    []string
	Mode    hardening.Mode
	Options *hardening.Options
	// Params replaces the parameters Options would give, when set: golden-validate audits a
	// booted image with the ones its build recorded (the report's "parameters" property).
	Params    []hardening.ShellParam
	Waivers   []hardening.Waiver
	BuildUser string // the user that keeps SSH and sudo; default: the communicator's user
	SSHPort   int    // the port the build connects on
	RemoteDir string // where the script and its work directory go (default /tmp)
	// BackupRoot holds a folder per run with a copy of every file changed (default
	// hardening.DefaultBackupRoot).
	BackupRoot string
	Threshold  float64 // score below which the report says failed
	Version    string  // plugin version, for the report and the image's build info
	SourceAMI  string  // the AMI the build started from, when known, for the image's build info

	Catalogue []hardening.Module // default: hardening.Modules()
	Now       func() time.Time   // default: time.Now
}

// Outcome is a finished run.
type Outcome struct {
	Target   Target
	RunID    string
	Selected []hardening.Module
	Run      *hardening.Run
	Report   *report.Report
	Warnings []string
}

// Apply selects, renders and runs the controls on the target, and builds the report. It returns
// an error when the run itself broke (script killed, connection lost, results missing); failing
// controls are not an error here, the report says so.
func Apply(ctx context.Context, runner *remote.Runner, ui packersdk.Ui, target Target, req Request) (*Outcome, error) {
	if req.Catalogue == nil {
		req.Catalogue = hardening.Modules()
	}
	if req.Now == nil {
		req.Now = time.Now
	}
	if req.RemoteDir == "" {
		req.RemoteDir = "/tmp"
	}
	if req.BuildUser == "" {
		req.BuildUser = target.User
	}
	if req.Options == nil {
		req.Options = &hardening.Options{}
	}
	started := req.Now()
	selected, err := hardening.Select(req.Catalogue, hardening.Selection{Profile: req.Profile, Only: req.Only, Include: req.Include, Skip: req.Skip, OS: &target.OS})
	if err != nil {
		return nil, err
	}
	out := &Outcome{Target: target, Selected: selected, RunID: newRunID(started)}
	if len(selected) == 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("no control of profile %s applies to %s with the given only_controls/include/skip", req.Profile, target.OS))
	}
	plan := hardening.Plan{
		Mode:       req.Mode,
		OS:         target.OS,
		BuildUser:  req.BuildUser,
		SSHPort:    req.SSHPort,
		SSHClient:  target.SSHClient,
		SSHServer:  target.SSHServer,
		RunID:      out.RunID,
		WorkDir:    req.RemoteDir + "/golden-harden-" + out.RunID,
		ScriptPath: req.RemoteDir + "/golden-harden-" + out.RunID + ".sh",
		Params:     params(req),
		Modules:    selected,
		Provenance: hardening.Provenance{Profile: string(req.Profile), PluginVersion: req.Version, SourceAMI: req.SourceAMI},
	}
	if req.BackupRoot != "" {
		plan.BackupDir = req.BackupRoot + "/" + out.RunID
	}
	if req.Mode == hardening.ModeAudit {
		// Audit writes nothing outside its work directory, not even (empty) backup folders.
		plan.BackupDir = plan.WorkDir + "/backups"
	}
	script, err := hardening.Render(plan)
	if err != nil {
		return nil, err
	}

	waived := validWaivers(req.Waivers, started)
	collector := hardening.NewCollector(hardening.PlannedIDs(selected))
	titles := titlesOf(selected)
	collector.OnResult = func(r hardening.Result) {
		ui.Say(progressLine(r, titles[r.ID], waived[r.ID]))
	}
	collector.OnModule = func(m hardening.ModuleRun) {
		if m.Finalize == "failed" {
			ui.Error(fmt.Sprintf("  module %s: applying its new configuration failed, so it was rolled back:\n%s",
				m.Name, indent(firstLines(m.Message, 8), "    ")))
		}
	}
	var stderrTail []string
	ui.Say(fmt.Sprintf("golden-harden: %s mode, profile %s, %d controls in %d modules on %s as %s",
		req.Mode, req.Profile, countControls(selected), len(plan.Modules), target.OS, target.User))
	status, runErr := runner.RunScript(ctx, remote.Script{
		Path:     plan.ScriptPath,
		Content:  script,
		Root:     true,
		Marker:   hardening.Marker,
		OnRecord: collector.Add,
		OnOutput: func(stderr bool, line string) {
			if stderr {
				stderrTail = append(stderrTail, line)
				if len(stderrTail) > 20 {
					stderrTail = stderrTail[1:]
				}
				ui.Error("  " + line)
				return
			}
			ui.Say("  " + line)
		},
	})
	run, collectErr := collector.Run()
	switch {
	case runErr != nil:
		return nil, fmt.Errorf("running the hardening script: %w", runErr)
	case status != 0:
		return nil, fmt.Errorf("the hardening script failed with exit status %d: %s", status, lastLines(stderrTail))
	case collectErr != nil:
		return nil, collectErr
	}
	out.Run = run
	var warnings []string
	run.Results, warnings = hardening.ApplyWaivers(run.Results, req.Waivers, started)
	out.Warnings = append(out.Warnings, warnings...)
	out.Report = buildReport(req, out, started, req.Now())
	return out, nil
}

func params(req Request) []hardening.ShellParam {
	if req.Params != nil {
		return req.Params
	}
	return req.Options.ShellParams()
}

// ParamsProperty is the report property that records the run's parameters (JSON, name to value),
// so that an audit of the image later checks against the same values.
const ParamsProperty = "parameters"

// SourceAMIProperty is the report property that records the AMI the build started from, when
// it is known: the image's build information names it.
const SourceAMIProperty = "source_ami"

// AuditRequest is the audit of a machine booted from an image against the report of the build
// that hardened it: the build's profile, parameters and build user, and the provenance the build
// wrote into the image's build information (the plugin version and the source AMI of the build,
// not of the audit). The caller chooses the controls (Only) and the SSH port.
func AuditRequest(build *report.Report) (Request, error) {
	params, err := ParseParams(build)
	if err != nil {
		return Request{}, err
	}
	return Request{
		Profile:   hardening.Profile(build.Property("profile")),
		Mode:      hardening.ModeAudit,
		Params:    params,
		BuildUser: build.Property("build_user"),
		Version:   build.Version,
		SourceAMI: build.Property(SourceAMIProperty),
	}, nil
}

// ParseParams reads the ParamsProperty of a report; nil when the report has none.
func ParseParams(r *report.Report) ([]hardening.ShellParam, error) {
	raw := r.Property(ParamsProperty)
	if raw == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("the report's %s property: %w", ParamsProperty, err)
	}
	out := make([]hardening.ShellParam, 0, len(m))
	for k, v := range m {
		out = append(out, hardening.ShellParam{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func paramsJSON(ps []hardening.ShellParam) string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.Name] = p.Value
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func newRunID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func countControls(mods []hardening.Module) int {
	return len(hardening.PlannedIDs(mods))
}

func validWaivers(ws []hardening.Waiver, now time.Time) map[string]bool {
	m := map[string]bool{}
	for _, w := range ws {
		if !w.Expired(now) {
			m[w.Control] = true
		}
	}
	return m
}

func titlesOf(mods []hardening.Module) map[string]string {
	m := map[string]string{}
	for _, mod := range mods {
		for _, c := range mod.Controls {
			m[c.ID] = c.Title
		}
	}
	return m
}

// progressLine is the line the user sees per control: status, id, and why when it is not a pass.
func progressLine(r hardening.Result, title string, waived bool) string {
	status := string(r.Status)
	if waived && r.Status == hardening.StatusFailed {
		status = string(hardening.StatusWaived)
	}
	detail := title
	switch {
	case r.RolledBack:
		detail = fmt.Sprintf("rolled back with module %s (see above)", r.Module)
	case r.Status == hardening.StatusFailed || r.Status == hardening.StatusSkipped:
		if m := firstLine(r.Message); m != "" {
			detail = m
		}
	case r.NextBoot:
		detail += " (in force after the next boot)"
	}
	return fmt.Sprintf("  [%s] %s: %s", status, r.ID, detail)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func lastLines(lines []string) string {
	if len(lines) == 0 {
		return "no error output"
	}
	return strings.Join(lines, "; ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// buildReport turns the run into the shared report model.
func buildReport(req Request, out *Outcome, started, ended time.Time) *report.Report {
	controls := map[string]hardening.Control{}
	for _, m := range out.Selected {
		for _, c := range m.Controls {
			controls[c.ID] = c
		}
	}
	r := &report.Report{
		Suite:      "golden-harden",
		Version:    req.Version,
		Started:    started.UTC(),
		DurationMS: ended.Sub(started).Milliseconds(),
		Properties: []report.Property{
			{Name: "profile", Value: string(req.Profile)},
			{Name: "mode", Value: string(req.Mode)},
			{Name: "os", Value: out.Target.OS.String()},
			{Name: "build_user", Value: req.BuildUser},
			{Name: "run_id", Value: out.RunID},
			{Name: "in_container", Value: strconv.FormatBool(out.Run.InContainer)},
			{Name: "script_ms", Value: strconv.FormatInt(out.Run.Duration.Milliseconds(), 10)},
			{Name: "script_cpu_ms", Value: strconv.FormatInt(out.Run.CPU.Milliseconds(), 10)},
			{Name: ParamsProperty, Value: paramsJSON(params(req))},
		},
		Threshold: req.Threshold,
		Warnings:  out.Warnings,
	}
	if req.SourceAMI != "" {
		r.Properties = append(r.Properties, report.Property{Name: SourceAMIProperty, Value: req.SourceAMI})
	}
	if req.Mode == hardening.ModeEnforce {
		r.ChangedFiles = hardening.ChangedFiles(out.Run.Results)
		if len(r.ChangedFiles) > 0 {
			r.BackupDir = out.Run.BackupDir
		}
	}
	if out.Run.MachineCPU >= 0 {
		r.Properties = append(r.Properties, report.Property{Name: "machine_cpu_ms", Value: strconv.FormatInt(out.Run.MachineCPU.Milliseconds(), 10)})
	}
	if out.Run.Processes >= 0 {
		r.Properties = append(r.Properties, report.Property{Name: "processes", Value: strconv.FormatInt(out.Run.Processes, 10)})
	}
	for _, m := range out.Run.Modules {
		tm := report.Timing{Name: "module " + m.Name, DurationMS: m.Duration.Milliseconds(), CPUMS: m.CPU.Milliseconds()}
		if m.MachineCPU >= 0 {
			tm.MachineCPUMS = m.MachineCPU.Milliseconds()
		}
		if m.Processes >= 0 {
			tm.Processes = m.Processes
		}
		r.Timings = append(r.Timings, tm)
		if m.FinalizeDuration > 0 {
			r.Timings = append(r.Timings, report.Timing{Name: "finalize " + m.Name, DurationMS: m.FinalizeDuration.Milliseconds()})
		}
	}
	for _, res := range out.Run.Results {
		c := controls[res.ID]
		it := report.Item{
			ID: res.ID, Title: c.Title, Group: res.Module, Level: c.Level,
			Status: string(res.Status), Before: string(res.Before), NextBoot: res.NextBoot,
			Message: res.Message, Evidence: res.Evidence, BeforeEvidence: res.BeforeEvidence,
			DurationMS: res.Duration.Milliseconds(), Backups: res.Backups, RolledBack: res.RolledBack,
		}
		for _, ref := range c.Refs {
			it.Refs = append(it.Refs, report.Ref{Benchmark: ref.Benchmark, Version: ref.Version, ID: ref.ID})
		}
		if res.Waiver != nil {
			it.Waiver = &report.Waiver{Justification: res.Waiver.Justification}
			if !res.Waiver.Expires.IsZero() {
				it.Waiver.Expires = res.Waiver.Expires.Format(time.DateOnly)
			}
		}
		r.Items = append(r.Items, it)
	}
	r.Summarize()
	return r
}
