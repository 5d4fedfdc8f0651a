package e2e

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// The controls of the pam, login, sudo, cron, files, services, banners, packages, timezone and
// build_info modules, run for real on a Debian 12 target: rendered into one script, run once as
// root through sudo, and then checked against the target's real state, a second run that must
// change nothing, and an audit run. (harden_test.go drives the whole provisioner through packer;
// this file looks at these modules' effects one by one.)

var modulesB = []string{"packages", "timezone", "services", "pam", "login", "sudo", "cron", "banners", "files", "build_info"}

// Packages on top of the hardening set (which has cron), so that the at, rsync, telnet and
// rpcbind (pulled by nfs-common) controls have something to act on. scripts/lab.sh builds this
// variant with the lab's other images (make lab), so the test does not wait for its build.
var modulesBExtraPackages = []string{"at", "rsync", "telnet", "nfs-common"}

// Controls whose fix installs a package or starts a service, and changes no file itself.
var noBackupNeeded = map[string]bool{"pam.pwquality-installed": true, "pam.modules-installed": true, "sudo.installed": true, "cron.installed": true, "cron.enabled": true}

// runModulesB renders the modules with default options, runs the script on the target and
// returns the collected results.
func runModulesB(t *testing.T, h *lab.TargetHost, mode hardening.Mode, runID string) *hardening.Run {
	t.Helper()
	osInfo, err := hardening.ParseOSRelease(h.MustRun(t, "cat /etc/os-release"))
	if err != nil {
		t.Fatal(err)
	}
	var mods []hardening.Module
	want := map[string]bool{}
	for _, n := range modulesB {
		want[n] = true
	}
	for _, m := range hardening.Modules() {
		if want[m.Name] {
			mods = append(mods, m)
		}
	}
	if len(mods) != len(modulesB) {
		t.Fatalf("found %d of the %d modules", len(mods), len(modulesB))
	}
	scriptPath := "/tmp/golden-harden-" + runID + ".sh"
	script, err := hardening.Render(hardening.Plan{
		Mode: mode, OS: osInfo, BuildUser: h.User, SSHPort: h.Port, RunID: runID,
		WorkDir: "/tmp/golden-harden-" + runID, ScriptPath: scriptPath,
		Params: (&hardening.Options{}).ShellParams(), Modules: mods,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := h.Client(t)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s.Stdin = bytes.NewReader(script)
	if out, err := s.CombinedOutput("umask 077 && cat >" + scriptPath); err != nil {
		t.Fatalf("uploading the script: %v\n%s", err, out)
	}
	s.Close()
	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := s.Run("sudo -n sh " + scriptPath)
	t.Logf("%s run %s: %s", mode, runID, time.Since(start).Round(10*time.Millisecond))
	col := hardening.NewCollector(hardening.PlannedIDs(mods))
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), hardening.Marker+" "); ok {
			if err := col.Add([]byte(line)); err != nil {
				t.Fatal(err)
			}
		}
	}
	run, err := col.Run()
	if err != nil || runErr != nil {
		t.Fatalf("script run: %v / %v\nstderr:\n%s", err, runErr, stderr.String())
	}
	return run
}

// statusReport lists the controls whose status is not in ok, with their evidence and message.
func statusReport(run *hardening.Run, ok ...hardening.Status) string {
	var all []outcome
	for _, r := range run.Results {
		all = append(all, outcome{r.ID, string(r.Status), string(r.Before), r.Evidence, r.Message})
	}
	var okText []string
	for _, s := range ok {
		okText = append(okText, string(s))
	}
	return listNotOK(all, okText...)
}

// stateSnapshot is the metadata (mode, owner, size, mtime) of every file the modules may touch.
const stateSnapshot = `sudo find /etc /usr/share/pam-configs /var/lib/pam -xdev -printf '%m %u %g %s %T@ %p\n' 2>/dev/null | sort`

func TestHardenModulesB(t *testing.T) {
	lab.RequireLab(t)
	t.Parallel()
	h := lab.Target(t, lab.WithPackages(append(append([]string{}, lab.HardeningPackages...), modulesBExtraPackages...)...))

	first := runModulesB(t, h, hardening.ModeEnforce, "b-enforce-1")
	if bad := statusReport(first, hardening.StatusPass, hardening.StatusFixed, hardening.StatusSkipped); bad != "" {
		t.Fatalf("controls not compliant after the first run:\n%s", bad)
	}
	for _, m := range first.Modules {
		if m.Finalize == "failed" {
			t.Errorf("module %s: finalize failed: %s", m.Name, m.Message)
		}
	}
	fixed := 0
	for _, r := range first.Results {
		if r.Status == hardening.StatusFixed {
			fixed++
			// Package installs and removals and unit masking are apt's and systemd's business;
			// every file edit is backed up.
			if len(r.Backups) == 0 && !noBackupNeeded[r.ID] && !strings.HasPrefix(r.ID, "packages.") && !strings.HasPrefix(r.ID, "services.") {
				t.Errorf("%s was fixed but lists no backup", r.ID)
			}
		}
	}
	if fixed < 30 {
		t.Errorf("only %d controls fixed on a stock Debian 12: the target is not what this test expects", fixed)
	}

	t.Run("state", func(t *testing.T) { assertModulesBState(t, h) })

	// A second run finds everything compliant and changes nothing.
	before := h.MustRun(t, stateSnapshot)
	second := runModulesB(t, h, hardening.ModeEnforce, "b-enforce-2")
	if bad := statusReport(second, hardening.StatusPass, hardening.StatusSkipped); bad != "" {
		t.Errorf("the second run is not clean:\n%s", bad)
	}
	if after := h.MustRun(t, stateSnapshot); after != before {
		t.Errorf("the second run changed files:\n%s", diffLines(before, after))
	}

	// An audit run agrees and writes nothing.
	audit := runModulesB(t, h, hardening.ModeAudit, "b-audit")
	if bad := statusReport(audit, hardening.StatusPass, hardening.StatusSkipped); bad != "" {
		t.Errorf("the audit run disagrees:\n%s", bad)
	}
	if after := h.MustRun(t, stateSnapshot); after != before {
		t.Errorf("the audit run changed files:\n%s", diffLines(before, after))
	}

	// The build user still logs in (a new connection) and has passwordless sudo.
	if out := h.MustRun(t, "sudo -n id -un"); strings.TrimSpace(out) != "root" {
		t.Errorf("sudo -n id -un: %q", out)
	}
}

// assertModulesBState checks the target's real state after the first run.
func assertModulesBState(t *testing.T, h *lab.TargetHost) {
	expect := func(what, cmd, want string) {
		t.Helper()
		out, err := h.Run(t, cmd)
		if err != nil {
			t.Errorf("%s: %s: %v\n%s", what, cmd, err, out)
			return
		}
		if got := strings.TrimSpace(out); got != want {
			t.Errorf("%s: %s\n got: %q\nwant: %q", what, cmd, got, want)
		}
	}
	expectOK := func(what, cmd string) {
		t.Helper()
		if out, err := h.Run(t, cmd); err != nil {
			t.Errorf("%s: %s: %v\n%s", what, cmd, err, out)
		}
	}
	expectFail := func(what, cmd string) {
		t.Helper()
		if out, err := h.Run(t, cmd); err == nil {
			t.Errorf("%s: %s succeeded:\n%s", what, cmd, out)
		}
	}

	// packages and timezone
	expectOK("essential packages", "dpkg-query -W curl wget git vim htop tree unzip jq gnupg lsb-release python3-venv rsyslog >/dev/null")
	expectFail("no compiler dragged in", "dpkg-query -W -f='${Status}' gcc 2>/dev/null | grep -q 'ok installed'")
	expect("debsums checks weekly", "grep '^CRON_CHECK=' /etc/default/debsums", "CRON_CHECK=weekly")
	expect("timezone", "readlink -f /etc/localtime", "/usr/share/zoneinfo/Etc/UTC")
	expect("date in UTC", "date +%Z", "UTC")

	// services: telnet purged; rpcbind masked, not purged (nfs-common depends on it); rsync kept
	expectFail("telnet purged", "dpkg-query -W -f='${Status}' telnet | grep -q 'ok installed'")
	expect("rpcbind masked", "systemctl is-enabled rpcbind.service rpcbind.socket || true", "masked\nmasked")
	expectOK("nfs-common kept", "dpkg-query -W -f='${Status}' nfs-common | grep -q 'ok installed'")
	expectOK("rsync kept", "dpkg-query -W -f='${Status}' rsync | grep -q 'ok installed'")

	// pam: stack order, no nullok, settings, and real password changes through it
	// the auth stack, one module a line, with faillock's mode
	expect("common-auth", `awk '$1 == "auth" { for (i = 2; i < NF; i++) if ($i ~ /\.so$/) break; print $i, $(i + 1) }' /etc/pam.d/common-auth`,
		"pam_faillock.so preauth\npam_unix.so try_first_pass\npam_faillock.so authfail\npam_deny.so \npam_permit.so")
	expect("faillock.conf", `grep -E '^(deny|unlock_time|even_deny_root|root_unlock_time)' /etc/security/faillock.conf`,
		"deny = 5\nunlock_time = 900\neven_deny_root\nroot_unlock_time = 60")
	expect("pwquality.conf", `grep -E '^(minlen|minclass|difok|maxrepeat|maxsequence|enforce_for_root)' /etc/security/pwquality.conf | sort`,
		"difok = 2\nenforce_for_root\nmaxrepeat = 3\nmaxsequence = 3\nminclass = 4\nminlen = 14")
	expectOK("pwhistory", "grep -Eq '^password[[:space:]]+requisite[[:space:]]+pam_pwhistory.so remember=24 enforce_for_root try_first_pass use_authtok' /etc/pam.d/common-password")
	expectFail("nullok gone", "grep -v '^#' /etc/pam.d/common-* | grep -q nullok")
	expectOK("a pam-auth-update run keeps it all", "sudo DEBIAN_FRONTEND=noninteractive pam-auth-update --package && ! grep -q nullok /etc/pam.d/common-auth && grep -q pam_faillock /etc/pam.d/common-auth")
	expectOK("test user", "sudo useradd -m golden-e2e-b")
	expect("a session gets a private TMPDIR", `sudo su - golden-e2e-b -c 'test "$TMPDIR" = /tmp/user/$(id -u) && stat -c %a "$TMPDIR"'`, "700")
	expectFail("a short password is refused", "echo 'golden-e2e-b:Sh0rt!pw' | sudo chpasswd")
	expectOK("a strong password is accepted", "echo 'golden-e2e-b:Tq8#vN2z!Lw5@Rc9' | sudo chpasswd")
	expectOK("hashed with yescrypt", "sudo grep -q '^golden-e2e-b:\\$y\\$' /etc/shadow")
	expectOK("another strong password", "echo 'golden-e2e-b:Hm4%jB7x^Ud1&Ke6' | sudo chpasswd")
	expectFail("reuse is refused", "echo 'golden-e2e-b:Tq8#vN2z!Lw5@Rc9' | sudo chpasswd")
	expect("new accounts age", "sudo chage -l golden-e2e-b | sed -n 's/^Maximum number of days between password change[[:space:]]*: //p'", "365")
	expect("home directory mode from UMASK 027", "stat -c %a /home/golden-e2e-b", "750")
	expectOK("remove test user", "sudo userdel -r golden-e2e-b 2>/dev/null; ! id golden-e2e-b")

	// login
	expect("login.defs", `awk '$1 ~ /^(PASS_MAX_DAYS|PASS_MIN_DAYS|PASS_WARN_AGE|UMASK|ENCRYPT_METHOD)$/ { print $1, $2 }' /etc/login.defs`,
		"UMASK 027\nPASS_MAX_DAYS 365\nPASS_MIN_DAYS 1\nPASS_WARN_AGE 7\nENCRYPT_METHOD YESCRYPT")
	expect("useradd inactive", "sudo useradd -D | grep INACTIVE", "INACTIVE=30")
	expect("login shell TMOUT, read-only", `bash -lc 'echo $TMOUT; readonly -p | grep -c " TMOUT="'`, "900\n1")
	expect("login shell umask", "bash -lc umask", "0027")
	expect("build user's password ages untouched", "sudo chage -l admin | sed -n 's/^Maximum number of days between password change[[:space:]]*: //p'", "99999")

	// sudo
	expectOK("visudo", "sudo visudo -c")
	expect("drop-in", "sudo stat -c '%a %U %G' /etc/sudoers.d/golden-hardening", "440 root root")
	expectOK("sudo log", "sudo true && sudo grep -q 'COMMAND=/usr/bin/true' /var/log/sudo.log")
	expect("su group", "getent group sugroup | cut -d: -f4", "")
	expectOK("su restricted", "grep -Eq '^auth[[:space:]]+required[[:space:]]+pam_wheel.so use_uid group=sugroup' /etc/pam.d/su")

	// cron and at
	expect("cron perms", "stat -c '%a %U %G %n' /etc/crontab /etc/cron.d /etc/cron.daily",
		"600 root root /etc/crontab\n700 root root /etc/cron.d\n700 root root /etc/cron.daily")
	expect("cron.allow", "sudo stat -c '%a %U %G' /etc/cron.allow && sudo cat /etc/cron.allow", "640 root crontab\nroot")
	expect("at.allow", "sudo stat -c '%a %U %G' /etc/at.allow && sudo cat /etc/at.allow", "640 root daemon\nroot")
	expectFail("deny files removed", "ls /etc/cron.deny /etc/at.deny")
	expectFail("the build user may not use crontab", "crontab -l")
	expectOK("root may", "sudo crontab -l 2>&1 | grep -q 'no crontab for root'")
	expect("cron running", "systemctl is-active cron", "active")

	// banners and files
	expect("issue", "cat /etc/issue /etc/issue.net /etc/motd | sort -u", "Authorized access only. This system is private: all activity on it is monitored and recorded, and unauthorized use is prohibited and may be reported to law enforcement.")
	expect("account files", "stat -c '%a %U %G %n' /etc/passwd /etc/shadow /etc/group /etc/gshadow",
		"644 root root /etc/passwd\n640 root shadow /etc/shadow\n644 root root /etc/group\n640 root shadow /etc/gshadow")

	// build info
	expect("build info", "grep -v GOLDEN_BUILD_TIME /etc/golden-build-info", "GOLDEN_BUILD_USER='admin'\nGOLDEN_OS='debian 12'")
	expectOK("build time", `grep -Eq "^GOLDEN_BUILD_TIME='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z'$" /etc/golden-build-info`)
	expectOK("sourceable", `sh -c '. /etc/golden-build-info && [ "$GOLDEN_BUILD_USER" = admin ]'`)
}
