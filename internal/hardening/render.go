package hardening

import (
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed runtime.sh
var runtimeScript string

// Marker starts every result line the rendered script prints; the rest of such a line is one
// JSON object (see Record). Other output lines are progress or errors for the user.
const Marker = "@@golden-harden@@"

// Mode says whether the script may change the target.
type Mode string

const (
	ModeEnforce Mode = "enforce" // check, fix what is not compliant, finalize, re-check
	ModeAudit   Mode = "audit"   // check only; nothing is written outside the run's work directory
)

// DefaultBackupRoot is where enforce runs keep a copy of every file they change, per run and module.
const DefaultBackupRoot = "/var/backups/golden-harden"

// Plan is everything one rendered script needs.
type Plan struct {
	Mode      Mode
	OS        OSInfo
	BuildUser string // the communicator's user: keeps SSH and sudo whatever the controls say
	SSHPort   int    // the port the build connects on: the firewall keeps it open
	// SSHClient and SSHServer are the addresses of the build's SSH connection as the target sees
	// it (SSH_CONNECTION); empty when unknown. The firewall enables ufw only when a rule lets
	// that connection in.
	SSHClient, SSHServer string
	RunID                string // unique per run; names the work and backup directories
	// WorkDir is the run's private directory on the target (state, temporary files); the script
	// creates it (it must not exist), and removes it and ScriptPath when it ends.
	WorkDir    string
	ScriptPath string // the uploaded script, removed at the end; empty = keep
	BackupDir  string // default DefaultBackupRoot/RunID
	Params     []ShellParam
	Modules    []Module // selected modules in run order, each holding only its selected controls
	// Provenance is recorded on the image by build_info; every field is optional.
	Provenance Provenance
}

// Provenance says what produced the image: the run variables G_PROFILE, G_PLUGIN_VERSION and
// G_SOURCE_AMI.
type Provenance struct {
	Profile       string
	PluginVersion string
	SourceAMI     string // the AMI the build started from, when the builder says (amazon-ebs, golden-ebs)
}

var (
	shellNamePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	moduleNamePat    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	controlIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9._-]*$`)
	runIDPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// shellQuote returns s as one single-quoted shell word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (p Plan) validate() error {
	var problems []string
	if p.Mode != ModeEnforce && p.Mode != ModeAudit {
		problems = append(problems, fmt.Sprintf("mode %q is neither enforce nor audit", p.Mode))
	}
	if !runIDPattern.MatchString(p.RunID) {
		problems = append(problems, fmt.Sprintf("run id %q must be letters, digits, dot, dash or underscore", p.RunID))
	}
	if !strings.HasPrefix(p.WorkDir, "/") || !strings.Contains(p.WorkDir[strings.LastIndex(p.WorkDir, "/"):], "golden-harden-") {
		problems = append(problems, fmt.Sprintf("work dir %q must be an absolute path whose last element starts with golden-harden-", p.WorkDir))
	}
	if p.BackupDir != "" && !strings.HasPrefix(p.BackupDir, "/") {
		problems = append(problems, fmt.Sprintf("backup dir %q must be absolute", p.BackupDir))
	}
	if p.BuildUser == "" {
		problems = append(problems, "the build user is empty")
	}
	if p.SSHPort < 1 || p.SSHPort > 65535 {
		problems = append(problems, fmt.Sprintf("ssh port %d is out of range", p.SSHPort))
	}
	for _, sp := range p.Params {
		if !shellNamePattern.MatchString(sp.Name) || strings.HasPrefix(sp.Name, "G_") {
			problems = append(problems, fmt.Sprintf("parameter name %q must be upper case and not start with G_", sp.Name))
		}
	}
	seen := map[string]bool{}
	for _, m := range p.Modules {
		if !moduleNamePat.MatchString(m.Name) {
			problems = append(problems, fmt.Sprintf("module name %q is not a shell identifier", m.Name))
		}
		for _, c := range m.Controls {
			switch {
			case !controlIDPattern.MatchString(c.ID):
				problems = append(problems, fmt.Sprintf("control id %q must look like module.name-in-lower-case", c.ID))
			case seen[c.ID]:
				problems = append(problems, fmt.Sprintf("control id %q appears twice", c.ID))
			case strings.TrimSpace(c.Check) == "":
				problems = append(problems, fmt.Sprintf("control %s has no check", c.ID))
			}
			seen[c.ID] = true
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("cannot render the hardening script: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Render writes the one POSIX shell script that runs the plan: run variables, module parameters,
// the runtime (helpers and driver), one check_N/fix_N function pair per control, one finalize
// function per module that has one, and the calls that drive them in order.
func Render(p Plan) ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if p.BackupDir == "" {
		p.BackupDir = DefaultBackupRoot + "/" + p.RunID
	}
	var b strings.Builder
	total := 0
	for _, m := range p.Modules {
		total += len(m.Controls)
	}
	fmt.Fprintf(&b, "#!/bin/sh\n# golden-harden run %s: %d controls in %d modules, mode %s, for %s.\n# Generated; do not edit.\nset -u\n\n",
		p.RunID, total, len(p.Modules), p.Mode, p.OS)

	// Not every control uses every variable (SC2034), and the values are literal text: a `$` in a
	// banner stays a `$` (SC2016).
	b.WriteString("# Run variables and module parameters: not every control uses every one of them.\n")
	b.WriteString("# shellcheck disable=SC2016,SC2034\n{\n")
	runVars := []ShellParam{
		{"G_MODE", string(p.Mode)},
		{"G_BUILD_USER", p.BuildUser},
		{"G_SSH_PORT", strconv.Itoa(p.SSHPort)},
		{"G_SSH_CLIENT", p.SSHClient},
		{"G_SSH_SERVER", p.SSHServer},
		{"G_OS_ID", p.OS.ID},
		{"G_OS_VERSION", p.OS.VersionID},
		{"G_OS_FAMILY", p.OS.Family},
		{"G_RUN_ID", p.RunID},
		{"G_WORK_DIR", p.WorkDir},
		{"G_BACKUP_DIR", p.BackupDir},
		{"G_SCRIPT", p.ScriptPath},
		{"G_MARKER", Marker},
		{"G_PROFILE", p.Provenance.Profile},
		{"G_PLUGIN_VERSION", p.Provenance.PluginVersion},
		{"G_SOURCE_AMI", p.Provenance.SourceAMI},
	}
	for _, sp := range append(runVars, p.Params...) {
		fmt.Fprintf(&b, "\t%s=%s\n", sp.Name, shellQuote(sp.Value))
	}
	b.WriteString("}\n\n")

	b.WriteString(runtimeScript)
	b.WriteString("\n# ---- controls -------------------------------------------------------------------------------\n")

	var calls, ahead strings.Builder
	calls.WriteString("g_begin\n")
	n, mi := 0, 0
	var order, noFix []string
	for _, m := range p.Modules {
		if len(m.Controls) == 0 {
			continue
		}
		mi++
		order = append([]string{strconv.Itoa(mi)}, order...)
		fmt.Fprintf(&ahead, "_g_ahead_m%d() {\n", mi)
		finalize := "-"
		if strings.TrimSpace(m.Finalize) != "" {
			finalize = "finalize_" + m.Name
			fmt.Fprintf(&b, "\n# module %s\n%s() {\n%s\n}\n", m.Name, finalize, strings.TrimRight(m.Finalize, "\n"))
		}
		finish := "inline"
		if m.Background {
			finish = "beside"
		}
		fmt.Fprintf(&calls, "g_module %s %s %s\n", m.Name, finalize, finish)
		for _, c := range m.Controls {
			n++
			fix := strings.TrimRight(c.Fix, "\n")
			if strings.TrimSpace(fix) == "" {
				fix = "\tg_no_fix"
				noFix = append(noFix, strconv.Itoa(n))
			}
			fmt.Fprintf(&b, "\n# %s: %s\ncheck_%d() {\n%s\n}\nfix_%d() {\n%s\n}\n",
				c.ID, oneLine(c.Title), n, strings.TrimRight(c.Check, "\n"), n, fix)
			fmt.Fprintf(&calls, "g_control %d %s\n", n, c.ID)
			fmt.Fprintf(&ahead, "\t_g_ahead_control %d %s || return 1\n", n, c.ID)
		}
		calls.WriteString("g_module_end\n")
		ahead.WriteString("}\n")
	}
	calls.WriteString("g_end\n")

	// What the second shell checks (runtime.sh, "checking ahead"): the modules last first.
	b.WriteString("\n# ---- checking ahead ---------------------------------------------------------------------------\n")
	fmt.Fprintf(&b, "_g_ahead_order='%s'\n", strings.Join(order, " "))
	// The controls without a fix: theirs changes nothing, so it does not end checking ahead.
	fmt.Fprintf(&b, "_g_no_fix_controls=' %s '\n", strings.Join(noFix, " "))
	b.WriteString(ahead.String())

	b.WriteString("\n# ---- run ------------------------------------------------------------------------------------\n")
	b.WriteString(calls.String())
	return []byte(b.String()), nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
