package harden

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/internal/remote/remotetest"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// Provision end to end on this machine: a communicator that says the target is a given OS, with
// a non-root user and passwordless sudo, and runs everything else here, and a small catalogue
// that manages files in a temporary folder (the real one would harden the machine running the
// tests).

const (
	debian12 = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"
	amazon   = "NAME=\"Amazon Linux\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023\"\n"
	alpine   = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"
)

// fakeTarget answers golden-harden's OS detection with osRelease (the user "admin", uid 1000,
// may sudo) and runs every other command on this machine, every `sudo -n` removed. It records every
// command as the provisioner sent it, and every upload.
type fakeTarget struct {
	local     remotetest.Local
	osRelease string
	commands  []string
	uploads   []string
}

var _ packersdk.Communicator = (*fakeTarget)(nil)

func (f *fakeTarget) Start(ctx context.Context, cmd *packersdk.RemoteCmd) error {
	f.commands = append(f.commands, cmd.Command)
	if strings.Contains(cmd.Command, "/etc/os-release") {
		// The answer format of hardenrun's detection: os-release, an id line, the sudo marker.
		fmt.Fprintf(cmd.Stdout, "%s\n@@golden-id@@ 1000 admin\n@@golden-sudo@@\n", f.osRelease)
		cmd.SetExited(0)
		return nil
	}
	command := strings.ReplaceAll(cmd.Command, "sudo -n ", "")
	if os.Getuid() != 0 {
		// Without root, installing the report as root:root cannot work; the rest is the same.
		command = strings.Replace(command, " -o root -g root", "", 1)
	}
	cmd.Command = command
	return f.local.Start(ctx, cmd)
}

func (f *fakeTarget) Upload(path string, r io.Reader, fi *os.FileInfo) error {
	f.uploads = append(f.uploads, path)
	return f.local.Upload(path, r, fi)
}

func (f *fakeTarget) UploadDir(dst, src string, exclude []string) error {
	return f.local.UploadDir(dst, src, exclude)
}

func (f *fakeTarget) Download(path string, w io.Writer) error {
	return f.local.Download(path, w)
}

func (f *fakeTarget) DownloadDir(src, dst string, exclude []string) error {
	return f.local.DownloadDir(src, dst, exclude)
}

// testCatalogue: one control the fix makes compliant, one whose fix cannot, one not applicable.
func testCatalogue(dir string) []hardening.Module {
	conf := filepath.Join(dir, "app.conf")
	return []hardening.Module{{Name: "app", Order: 10, Controls: []hardening.Control{
		{ID: "app.key", Title: "Key is yes", Level: 1,
			Refs:  []hardening.Ref{{Benchmark: "CIS Debian Linux 12", Version: "v1.1.0", ID: "9.1"}, {Benchmark: "CIS Ubuntu Linux 22.04 LTS", Version: "v2.0.0", ID: "9.2"}},
			Check: `g_kv_is '` + conf + `' Key yes && g_say "Key yes"`, Fix: `g_set_kv '` + conf + `' Key yes`},
		{ID: "app.stubborn", Title: "Cannot be fixed", Level: 1, Check: `g_say "still wrong"; return 1`, Fix: `return 0`},
		{ID: "app.elsewhere", Title: "Not here", Level: 1, Check: `g_say "no such service"; return 2`},
	}}}
}

type provisionRun struct {
	target *fakeTarget
	dir    string
	ui     *bytes.Buffer
	err    error
}

// provision prepares a provisioner with raw (plus report paths in a temporary folder) and runs it
// against a fake target with the test catalogue.
func provision(t *testing.T, osRelease string, raw map[string]interface{}) provisionRun {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.conf"), []byte("Key no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	remoteDir := filepath.Join(dir, "remote")
	if err := os.Mkdir(remoteDir, 0o755); err != nil {
		t.Fatal(err)
	}
	config := map[string]interface{}{
		"remote_dir":         remoteDir,
		"remote_report_path": filepath.Join(dir, "image", "harden-report.json"),
		"report":             filepath.Join(dir, "out", "harden.json"),
		"report_junit":       filepath.Join(dir, "out", "harden.xml"),
		"report_markdown":    filepath.Join(dir, "out", "harden.md"),
	}
	for k, v := range raw {
		config[k] = v
	}
	p := &Provisioner{catalogue: testCatalogue(dir), backupRoot: filepath.Join(dir, "backups")}
	if err := p.Prepare(config); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	target := &fakeTarget{osRelease: osRelease, local: remotetest.Local{Env: []string{"G_ALLOW_NON_ROOT=1", "G_IN_CONTAINER=0"}}}
	var out bytes.Buffer
	ui := &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: &out, ErrorWriter: &out, PB: &packersdk.NoopProgressTracker{}}
	err := p.Provision(context.Background(), ui, target, map[string]interface{}{"Port": 22})
	return provisionRun{target: target, dir: dir, ui: &out, err: err}
}

func (run provisionRun) wantUI(t *testing.T, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(run.ui.String(), want) {
			t.Errorf("UI output lacks %q:\n%s", want, run.ui)
		}
	}
}

// report reads the local JSON report of the run.
func (run provisionRun) report(t *testing.T) (*report.Report, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(run.dir, "out", "harden.json"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

func TestProvisionRefusesAnUnsupportedOS(t *testing.T) {
	for _, tc := range []struct{ osRelease, want string }{
		{amazon, "golden-harden: Amazon Linux 2023 is planned but not supported yet (supported: Debian 12/13, Ubuntu 22.04/24.04/26.04; planned: Amazon Linux 2023, RHEL 9)"},
		{alpine, `golden-harden: unsupported operating system "Alpine Linux v3.20" (supported: Debian 12/13, Ubuntu 22.04/24.04/26.04; planned: Amazon Linux 2023, RHEL 9)`},
	} {
		run := provision(t, tc.osRelease, map[string]interface{}{"mode": "audit"})
		if run.err == nil || run.err.Error() != tc.want {
			t.Errorf("err = %v\nwant %s", run.err, tc.want)
		}
		// Nothing but the detection reached the target.
		if len(run.target.commands) != 1 || len(run.target.uploads) != 0 {
			t.Errorf("after refusing the OS: commands %q, uploads %q", run.target.commands, run.target.uploads)
		}
	}
}

// Three sessions (the detection, the script written and run with sudo, the report installed on
// the image: nothing per control, no upload), one line per control in the UI, and the reports.
func TestProvisionRunsOneScriptWithSudo(t *testing.T) {
	run := provision(t, debian12, map[string]interface{}{"fail_below": 50})
	if run.err != nil {
		t.Fatalf("Provision: %v\n%s", run.err, run.ui)
	}
	script := regexp.QuoteMeta(filepath.Join(run.dir, "remote")) + `/golden-harden-[0-9TZ]+-[0-9a-f]+\.sh`
	scriptRun := regexp.MustCompile(`^\(set -C; umask 077; cat >'` + script + `'\) && sudo -n sh '` + script + `'$`)
	var scripts []string
	for _, c := range run.target.commands {
		if scriptRun.MatchString(c) {
			scripts = append(scripts, c)
		}
	}
	if len(scripts) != 1 || len(run.target.commands) != 3 || !strings.HasPrefix(run.target.commands[2], "sudo -n sh -c '(set -C; umask 077; cat >") ||
		!strings.Contains(run.target.commands[2], " && install -D -m 0600 -o root -g root ") {
		t.Errorf("commands sent to the target:\n%s", strings.Join(run.target.commands, "\n"))
	}
	if len(run.target.uploads) != 0 {
		t.Errorf("uploads: %q (want none: the script and the report come through the sessions' input)", run.target.uploads)
	}
	run.wantUI(t,
		"golden-harden: enforce mode, profile cis-level1-server, 3 controls in 1 modules on Debian GNU/Linux 12 (bookworm) as admin",
		"  [fixed] app.key: Key is yes\n",
		"  [failed] app.stubborn: still not compliant after the fix (the check exited 1)\n",
		"  [skipped] app.elsewhere: no such service\n",
		"golden-harden: 0 pass, 1 fixed, 1 failed, 1 skipped, 0 waived; score 50.0% (before the run: 0 compliant, 2 not compliant); 1 files changed",
	)
	ui := run.ui.String()
	for _, id := range []string{"app.key", "app.stubborn", "app.elsewhere"} {
		if n := strings.Count(ui, "] "+id+": "); n != 1 {
			t.Errorf("%d progress lines for %s:\n%s", n, id, ui)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(run.dir, "app.conf")); string(b) != "Key yes\n" {
		t.Errorf("app.conf = %q", b)
	}

	r, local := run.report(t)
	key := r.Items[0]
	if key.ID != "app.key" || key.Level != 1 || len(key.Refs) != 2 || key.Refs[1].Version != "v2.0.0" || key.Status != report.StatusFixed ||
		key.Before != report.StatusFailed || key.Evidence != "Key yes" || len(key.Backups) != 1 || r.Score != 50 || !r.Passed || r.Threshold != 50 {
		t.Errorf("JSON report: %+v\nitem %+v", r, key)
	}
	onImage, err := os.ReadFile(filepath.Join(run.dir, "image", "harden-report.json"))
	if err != nil || !bytes.Equal(onImage, local) {
		t.Errorf("the report left on the image differs from the local one (%v)", err)
	}
	wantRootOnly(t, filepath.Join(run.dir, "image", "harden-report.json"))
	for _, f := range []string{"harden.xml", "harden.md"} {
		if b, err := os.ReadFile(filepath.Join(run.dir, "out", f)); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(run.dir, "remote", "*")); len(entries) != 0 {
		t.Errorf("left in remote_dir: %v", entries)
	}
}

// fail_below and on_failure decide whether the build goes on; waivers take a failure out of the
// score until they expire.
func TestProvisionFailBelowOnFailureAndWaivers(t *testing.T) {
	defer func(now func() time.Time) { timeNow = now }(timeNow)
	timeNow = func() time.Time { return time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC) }
	waiver := func(expires string) []map[string]interface{} {
		return []map[string]interface{}{{"control": "app.stubborn", "justification": "vendor fix due in Q3", "expires": expires}}
	}
	const below = "golden-harden: score 50.0% is below fail_below 100%; failed: app.stubborn"
	cases := []struct {
		name    string
		raw     map[string]interface{}
		err     string // "" = the build goes on
		ui      []string
		waived  bool
		warning bool
	}{
		{"default: any failure fails the build", nil, below, nil, false, false},
		{"fail_below 50", map[string]interface{}{"fail_below": 50}, "", nil, false, false},
		{"fail_below 60", map[string]interface{}{"fail_below": 60}, "golden-harden: score 50.0% is below fail_below 60%; failed: app.stubborn", nil, false, false},
		{"on_failure warn", map[string]interface{}{"on_failure": "warn"}, "",
			[]string{"golden-harden: warning: score 50.0% is below fail_below 100%; failed: app.stubborn"}, false, false},
		{"a waiver", map[string]interface{}{"waiver": waiver("2026-06-01")}, "",
			[]string{"  [waived] app.stubborn: still not compliant", "1 waived; score 100.0%"}, true, false},
		{"an expired waiver", map[string]interface{}{"waiver": waiver("2026-05-31")}, below,
			[]string{"golden-harden: warning: the waiver for app.stubborn expired on 2026-05-31 and is ignored"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := provision(t, debian12, tc.raw)
			if tc.err == "" && run.err != nil || tc.err != "" && (run.err == nil || run.err.Error() != tc.err) {
				t.Errorf("err = %v, want %q", run.err, tc.err)
			}
			run.wantUI(t, tc.ui...)
			r, _ := run.report(t)
			stubborn := r.Items[1]
			if tc.waived != (stubborn.Status == report.StatusWaived) || tc.waived && (stubborn.Waiver == nil ||
				stubborn.Waiver.Justification != "vendor fix due in Q3" || stubborn.Waiver.Expires != "2026-06-01") {
				t.Errorf("app.stubborn: %+v waiver %+v", stubborn, stubborn.Waiver)
			}
			if tc.warning != (len(r.Warnings) == 1 && strings.Contains(r.Warnings[0], "expired")) {
				t.Errorf("report warnings: %q", r.Warnings)
			}
		})
	}
}

// wantRootOnly: the report left on the image lists every weakness the run found, so only its
// owner (root on a real target) may read it.
func wantRootOnly(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("the report on the image has mode %o, want 600", perm)
	}
}

// Audit mode leaves its report in remote_dir by default: readable by root only too.
func TestProvisionAuditReportIsRootOnly(t *testing.T) {
	run := provision(t, debian12, map[string]interface{}{"mode": "audit", "on_failure": "warn", "remote_report_path": ""})
	if run.err != nil {
		t.Fatalf("Provision: %v\n%s", run.err, run.ui)
	}
	wantRootOnly(t, filepath.Join(run.dir, "remote", "golden-harden-report.json"))
}
