package hardenrun

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/internal/remote/remotetest"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

func TestParseDetect(t *testing.T) {
	out := "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n\n" + idMarker + " 1000 admin\n" +
		connMarker + " 198.51.100.7 50022 10.0.3.15 22\n" + sudoMarker + "\n"
	got, err := parseDetect(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.OS.ID != "debian" || got.OS.VersionID != "12" || got.OS.Family != "debian" || got.UID != 1000 || got.User != "admin" || !got.CanSudo ||
		got.SSHClient != "198.51.100.7" || got.SSHServer != "10.0.3.15" || got.SSHPort != 22 {
		t.Errorf("%+v", got)
	}
	// Behind a port forward the build connects to another port than the one sshd listens on:
	// the firewall must keep sshd's open.
	if port := got.BuildSSHPort(41353); port != 22 {
		t.Errorf("BuildSSHPort(41353) = %d with SSH_CONNECTION on port 22", port)
	}
	root, err := parseDetect("ID=ubuntu\nVERSION_ID=\"22.04\"\n\n" + idMarker + " 0 root\n" + connMarker + " \n")
	if err != nil || root.UID != 0 || root.CanSudo || root.OS.Family != "debian" || root.SSHClient != "" || root.SSHServer != "" || root.SSHPort != 0 {
		t.Errorf("%+v %v", root, err)
	}
	if port := root.BuildSSHPort(2222); port != 2222 {
		t.Errorf("BuildSSHPort(2222) = %d without SSH_CONNECTION", port)
	}
	for _, bad := range []string{"", "ID=debian\n", "ID=debian\n\n" + idMarker + " x admin\n", "\n" + idMarker + " 0 root\n"} {
		if _, err := parseDetect(bad); err == nil {
			t.Errorf("parseDetect(%q) accepted", bad)
		}
	}
}

func TestDetectOnThisMachine(t *testing.T) {
	if _, err := os.Stat("/etc/os-release"); err != nil {
		t.Skip("no /etc/os-release here")
	}
	runner := &remote.Runner{Comm: &remotetest.Local{}}
	target, err := Detect(context.Background(), runner)
	if os.Getuid() != 0 {
		if err == nil && !runner.Sudo {
			t.Error("a non-root user must use sudo")
		}
		return
	}
	if err != nil || target.UID != 0 || target.User != "root" || runner.Sudo || target.OS.ID == "" {
		t.Errorf("%+v sudo=%v err=%v", target, runner.Sudo, err)
	}
}

// fakeCatalogue manages files in dir.
func fakeCatalogue(dir string) []hardening.Module {
	return []hardening.Module{
		{Name: "alpha", Order: 10, Controls: []hardening.Control{
			{ID: "alpha.kv", Title: "Key is yes", Level: 1, Refs: []hardening.Ref{{Benchmark: "CIS Debian Linux 12", Version: "v1.1.0", ID: "9.9.9"}},
				Check: `g_kv_is '` + dir + `/a.conf' Key yes && g_say Key yes`, Fix: `g_set_kv '` + dir + `/a.conf' Key yes`},
			{ID: "alpha.manual", Title: "Needs a person", Level: 1, Check: `g_say nope; return 1`},
			{ID: "alpha.level2", Title: "Level 2 only", Level: 2, Check: `return 0`},
			{ID: "alpha.rhel", Title: "RHEL only", Level: 1, OS: []string{"rhel"}, Check: `return 0`},
			{ID: "alpha.na", Title: "Not here", Level: 1, Check: `g_say "no such thing"; return 2`},
		}},
	}
}

func testUI() (packersdk.Ui, *bytes.Buffer) {
	var buf bytes.Buffer
	return &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: &buf, ErrorWriter: &buf, PB: &packersdk.NoopProgressTracker{}}, &buf
}

func TestApplyEnforceThenAudit(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.conf"), []byte("Key no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	runner := &remote.Runner{Comm: &remotetest.Local{Env: []string{"G_ALLOW_NON_ROOT=1", "G_IN_CONTAINER=0"}}}
	target := Target{OS: hardening.OSInfo{ID: "debian", VersionID: "12", Family: "debian", PrettyName: "Debian 12"}, User: "admin"}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	req := Request{
		Profile: hardening.ProfileCISLevel1Server, Mode: hardening.ModeEnforce, SSHPort: 22,
		RemoteDir: dir, BackupRoot: filepath.Join(dir, "backups"), Threshold: 100, Catalogue: fakeCatalogue(dir),
		Waivers: []hardening.Waiver{
			{Control: "alpha.manual", Justification: "tracked elsewhere", Expires: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)},
			{Control: "alpha.kv", Justification: "old", Expires: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		},
		Now: func() time.Time { return now },
	}
	ui, out := testUI()
	outcome, err := Apply(context.Background(), runner, ui, target, req)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	text := out.String()
	for _, want := range []string{
		"golden-harden: enforce mode, profile cis-level1-server, 3 controls in 1 modules on Debian 12 as admin",
		"  [fixed] alpha.kv: Key is yes",
		"  [waived] alpha.manual: no automatic fix: this control needs a manual change",
		"  [skipped] alpha.na: no such thing",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("UI output lacks %q:\n%s", want, text)
		}
	}
	r := outcome.Report
	if r.After != (report.Counts{Fixed: 1, Skipped: 1, Waived: 1, Total: 3}) || r.Score != 100 || !r.Passed {
		t.Errorf("report counts %+v score %v passed %v", r.After, r.Score, r.Passed)
	}
	if len(r.ChangedFiles) != 1 || r.ChangedFiles[0] != filepath.Join(dir, "a.conf") || !strings.HasPrefix(r.BackupDir, filepath.Join(dir, "backups")+"/") {
		t.Errorf("changed %v backup dir %s", r.ChangedFiles, r.BackupDir)
	}
	if len(outcome.Warnings) != 1 || !strings.Contains(outcome.Warnings[0], "alpha.kv expired on 2025-01-01") {
		t.Errorf("warnings %q", outcome.Warnings)
	}
	kv := r.Items[0]
	if kv.ID != "alpha.kv" || kv.Level != 1 || len(kv.Refs) != 1 || kv.Refs[0].ID != "9.9.9" || kv.Before != "failed" || kv.Evidence != "Key yes" {
		t.Errorf("item %+v", kv)
	}
	if w := r.Items[1].Waiver; w == nil || w.Expires != "2026-06-01" {
		t.Errorf("waiver %+v", w)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "golden-harden-*"))
	if len(entries) != 0 {
		t.Errorf("script or work dir left behind: %v", entries)
	}

	// The second run, in audit mode, finds everything in place.
	req.Mode = hardening.ModeAudit
	req.Waivers = nil
	req.Threshold = 50
	outcome, err = Apply(context.Background(), runner, ui, target, req)
	if err != nil {
		t.Fatal(err)
	}
	if r := outcome.Report; r.After != (report.Counts{Pass: 1, Failed: 1, Skipped: 1, Total: 3}) || r.Score != 50 || !r.Passed || len(r.ChangedFiles) != 0 {
		t.Errorf("audit report %+v", r)
	}
}

func TestApplyFailsOnABrokenRun(t *testing.T) {
	dir := t.TempDir()
	target := Target{OS: hardening.OSInfo{ID: "debian", VersionID: "12", Family: "debian"}, User: "admin"}
	cat := []hardening.Module{{Name: "alpha", Controls: []hardening.Control{
		{ID: "alpha.one", Level: 1, Check: "return 0"},
		{ID: "alpha.die", Level: 1, Check: "echo 'dying' >&2; kill -9 $$"},
		{ID: "alpha.three", Level: 1, Check: "return 0"},
	}}}
	req := Request{Profile: hardening.ProfileCISLevel1Server, Mode: hardening.ModeAudit, SSHPort: 22, RemoteDir: dir, Catalogue: cat}
	ui, _ := testUI()
	runner := &remote.Runner{Comm: &remotetest.Local{Env: []string{"G_ALLOW_NON_ROOT=1"}}}
	_, err := Apply(context.Background(), runner, ui, target, req)
	if err == nil || !strings.Contains(err.Error(), "exit status 137") {
		t.Errorf("err = %v", err)
	}

	// A dropped connection is an error even when every line arrived.
	cat[0].Controls[1].Check = "return 0"
	runner = &remote.Runner{Comm: &remotetest.Local{Env: []string{"G_ALLOW_NON_ROOT=1"}, Disconnect: true}}
	_, err = Apply(context.Background(), runner, ui, target, req)
	if err == nil || !strings.Contains(err.Error(), "connection to the target was lost") {
		t.Errorf("err = %v", err)
	}
}

func TestApplyShowsARolledBackModuleOnce(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "svc.conf")
	if err := os.WriteFile(conf, []byte("Option old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := []hardening.Module{{Name: "svc", Finalize: "echo \"svc.conf line 1: Bad option 'new'\"; exit 1", Controls: []hardening.Control{
		{ID: "svc.option", Title: "Option is new", Level: 1, Check: `g_kv_is '` + conf + `' Option new`, Fix: `g_set_kv '` + conf + `' Option new`},
	}}}
	req := Request{Profile: hardening.ProfileCISLevel1Server, Mode: hardening.ModeEnforce, SSHPort: 22, RemoteDir: dir,
		BackupRoot: filepath.Join(dir, "backups"), Threshold: 100, Catalogue: cat}
	ui, out := testUI()
	runner := &remote.Runner{Comm: &remotetest.Local{Env: []string{"G_ALLOW_NON_ROOT=1", "G_IN_CONTAINER=0"}}}
	target := Target{OS: hardening.OSInfo{ID: "debian", VersionID: "12", Family: "debian"}, User: "admin"}
	outcome, err := Apply(context.Background(), runner, ui, target, req)
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"  module svc: applying its new configuration failed, so it was rolled back:\n    finalize of module svc failed (exit 1)",
		"    svc.conf line 1: Bad option 'new'",
		"  [failed] svc.option: rolled back with module svc (see above)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("UI output lacks %q:\n%s", want, text)
		}
	}
	if b, _ := os.ReadFile(conf); string(b) != "Option old\n" {
		t.Errorf("svc.conf = %q after the rollback", b)
	}
	if it := outcome.Report.Items[0]; it.Status != report.StatusFailed || !it.RolledBack || outcome.Report.Passed {
		t.Errorf("report item %+v", it)
	}
}

// TestAuditRequestKeepsTheBuildsProvenance: a control that records the build's provenance (as
// build_info does) passes when a booted image is audited with the request made from the build's
// report, even though the auditing process is another plugin version and knows no source AMI.
func TestAuditRequestKeepsTheBuildsProvenance(t *testing.T) {
	dir := t.TempDir()
	facts := filepath.Join(dir, "facts")
	catalogue := []hardening.Module{{Name: "facts", Order: 10, Controls: []hardening.Control{{
		ID: "facts.file", Title: "The build's facts are recorded", Level: 1,
		Check: `[ "$(cat '` + facts + `' 2>/dev/null)" = "$G_BUILD_USER $G_PLUGIN_VERSION $G_SOURCE_AMI" ] && g_say recorded`,
		Fix:   `printf '%s\n' "$G_BUILD_USER $G_PLUGIN_VERSION $G_SOURCE_AMI" >'` + facts + `'`,
	}}}}
	runner := &remote.Runner{Comm: &remotetest.Local{Env: []string{"G_ALLOW_NON_ROOT=1", "G_IN_CONTAINER=0"}}}
	target := Target{OS: hardening.OSInfo{ID: "ubuntu", VersionID: "22.04", Family: "debian", PrettyName: "Ubuntu 22.04"}, User: "ubuntu"}
	ui, out := testUI()
	build, err := Apply(context.Background(), runner, ui, target, Request{
		Profile: hardening.ProfileCISLevel1Server, Mode: hardening.ModeEnforce, BuildUser: "ubuntu", SSHPort: 22,
		RemoteDir: dir, BackupRoot: filepath.Join(dir, "backups"), Catalogue: catalogue,
		Version: "0.1.0", SourceAMI: "ami-0123456789abcdef0",
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got, _ := os.ReadFile(facts); string(got) != "ubuntu 0.1.0 ami-0123456789abcdef0\n" || build.Report.After.Fixed != 1 {
		t.Fatalf("the build recorded %q, report %+v", got, build.Report.After)
	}
	if got := build.Report.Property(SourceAMIProperty); got != "ami-0123456789abcdef0" {
		t.Errorf("the build's report records source AMI %q", got)
	}

	req, err := AuditRequest(build.Report)
	if err != nil {
		t.Fatal(err)
	}
	if req.Mode != hardening.ModeAudit || req.Profile != hardening.ProfileCISLevel1Server || req.BuildUser != "ubuntu" ||
		req.Version != "0.1.0" || req.SourceAMI != "ami-0123456789abcdef0" {
		t.Errorf("audit request %+v", req)
	}
	req.RemoteDir, req.Catalogue, req.SSHPort = dir, catalogue, 22
	audit, err := Apply(context.Background(), runner, ui, target, req)
	if err != nil {
		t.Fatal(err)
	}
	if a := audit.Report.After; a.Pass != 1 || a.Failed != 0 {
		t.Errorf("the audit with the build's provenance: %+v\n%s", a, out)
	}

	// What the audit found before: the auditing plugin's own version and no source AMI.
	req.Version, req.SourceAMI = "0.2.0", ""
	stale, err := Apply(context.Background(), runner, ui, target, req)
	if err != nil {
		t.Fatal(err)
	}
	if stale.Report.After.Failed != 1 {
		t.Errorf("an audit with other facts passed: %+v", stale.Report.After)
	}
}
