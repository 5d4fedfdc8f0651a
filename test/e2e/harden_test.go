package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// golden-harden end to end: the real packer binary, the null builder with the SSH communicator to
// a Debian 12 target, the provisioner as a template writes it. The target is a systemd-nspawn
// container: kernel.* sysctls, auditd's kernel side and the clock are the host's, so those
// controls end "in force after the next boot" there, which the report must say.

// hardenTemplate is a null build over SSH running golden-harden with the given provisioner body.
func hardenTemplate(body string) string {
	return lab.NullSSHTemplate("  provisioner \"golden-harden\" {\n" + body + "\n  }")
}

// hardenBuild writes the template, runs `packer build` and returns the JSON report it wrote.
func hardenBuild(t *testing.T, p *lab.PackerEnv, h *lab.TargetHost, name, body string) (*report.Report, lab.Result) {
	t.Helper()
	body = fmt.Sprintf("    report = %q\n    report_junit = %q\n    report_markdown = %q\n%s", name+".json", name+".xml", name+".md", body)
	file := p.WriteFile(t, name+".pkr.hcl", hardenTemplate(body))
	res := p.Run(t, append(append([]string{"build", "-color=false"}, h.PackerVars()...), file)...)
	if res.ExitCode != 0 || !strings.Contains(res.Output, "golden-harden: report left on the target") {
		t.Logf("packer output:\n%s", res.Output)
		// A run that failed on its score still wrote its report: the evidence of what failed.
		if data, err := os.ReadFile(filepath.Join(p.Dir, name+".json")); err == nil {
			if r, err := report.ParseJSON(data); err == nil {
				t.Logf("controls not passed or fixed:\n%s", notOK(r, report.StatusPass, report.StatusFixed, report.StatusSkipped))
			}
		}
		return nil, res
	}
	r, err := report.ParseJSON([]byte(p.ReadFile(t, name+".json")))
	if err != nil {
		t.Fatal(err)
	}
	return r, res
}

// outcome is one control's result, read from a report or straight from the script's result lines.
type outcome struct{ id, status, before, evidence, message string }

// notOK lists the report's items whose status is not one of ok, with why.
func notOK(r *report.Report, ok ...string) string {
	var all []outcome
	for _, it := range r.Items {
		all = append(all, outcome{it.ID, it.Status, it.Before, it.Evidence, it.Message})
	}
	return listNotOK(all, ok...)
}

// listNotOK lists the outcomes whose status is not one of ok, with their evidence and message.
func listNotOK(all []outcome, ok ...string) string {
	var b strings.Builder
	for _, o := range all {
		if !slices.Contains(ok, o.status) {
			fmt.Fprintf(&b, "%s: %s (before %s)\n  evidence: %s\n  message: %s\n", o.id, o.status, o.before,
				strings.ReplaceAll(o.evidence, "\n", " | "), strings.ReplaceAll(o.message, "\n", " | "))
		}
	}
	return b.String()
}

// etcState is every path under /etc with its type, mode, owner and content hash: the second run
// and audit runs must leave it identical.
const etcState = `sudo find /etc -xdev -printf '%y %m %u %g %l %p\n' | sort; ` +
	`sudo find /etc -xdev -type f -print0 | sudo xargs -0 sha256sum | sort -k 2`

func diffLines(a, b string) string {
	in := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		in[l]++
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if in[l] > 0 {
			in[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	for l, n := range in {
		if n > 0 {
			out = append(out, "- "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// assertBuildUserKeepsAccess opens a NEW SSH connection as the build user and uses sudo.
func assertBuildUserKeepsAccess(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	out, err := h.Run(t, "id -un && sudo -n true && echo sudo-ok")
	if err != nil || !strings.Contains(out, h.User) || !strings.Contains(out, "sudo-ok") {
		t.Fatalf("the build user lost SSH or sudo on port %d: %v\n%s", h.Port, err, out)
	}
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// cisLevel1Body is the enforce runs' configuration: the default profile, with two kernel
// parameters of the template's own: a net.* one the target's network namespace applies live, and
// a kernel.* one the catalogue does not set, to a value the host's kernel does not have, which a
// container cannot apply.
func cisLevel1Body(dmesgRestrict string) string {
	return fmt.Sprintf(`    sysctl {
      overrides = { "net.ipv4.conf.all.arp_ignore" = "1", "kernel.dmesg_restrict" = %q }
    }`, dmesgRestrict)
}

// TestHardenCISLevel1 runs the default profile on a target with the hardening packages
// pre-installed: an audit first (read-only), then enforce, then enforce again (clean).
func TestHardenCISLevel1(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
	p := lab.Packer(t)

	// 1. Audit on the stock image: findings, and nothing written outside the temp dir.
	before := h.MustRun(t, etcState)
	audit, res := hardenBuild(t, p, h, "audit", `    mode = "audit"
    on_failure = "warn"`)
	if audit == nil {
		t.Fatalf("audit build failed: exit %d", res.ExitCode)
	}
	if d := diffLines(before, h.MustRun(t, etcState)); d != "" {
		t.Errorf("audit mode changed /etc:\n%s", d)
	}
	if out, err := h.Run(t, "test -e /var/log/golden || test -e /var/backups/golden-harden || echo clean"); err != nil || !strings.Contains(out, "clean") {
		t.Errorf("audit mode wrote outside its temp dir: %v %s", err, out)
	}
	h.MustRun(t, "sudo test -s /tmp/golden-harden-report.json")
	if audit.After.Failed == 0 || audit.After.Fixed != 0 || audit.Passed {
		t.Errorf("audit of a stock image: %+v passed=%v", audit.After, audit.Passed)
	}
	wantContains(t, "audit output", res.Output, "golden-harden: audit mode, profile cis-level1-server", "  [failed] ssh.")
	assertOneLinePerControl(t, audit, res.Output)

	// 2. Enforce: every applicable control ends pass or fixed, with the build's own SSH
	// connection, and one opened before the run, alive throughout.
	hostDmesg := readHostSysctl(t, "kernel/dmesg_restrict")
	dmesg := map[bool]string{true: "0", false: "1"}[hostDmesg == "1"]
	session := newSessionProbe(t, h)
	if !session.dialsWith(t, staleCipher) {
		t.Fatalf("the stock target refuses %s: the test cannot tell whether sshd reloads", staleCipher)
	}
	stopProbing := session.probeNewConnections(t)
	r, res := hardenBuild(t, p, h, "enforce", cisLevel1Body(dmesg))
	stopProbing()
	if r == nil {
		t.Fatalf("enforce build failed: exit %d", res.ExitCode)
	}
	if bad := notOK(r, report.StatusPass, report.StatusFixed, report.StatusSkipped); bad != "" {
		t.Errorf("controls not compliant after enforce:\n%s", bad)
	}
	if r.Score != 100 || !r.Passed || r.After.Fixed < 40 {
		t.Errorf("enforce: score %.1f passed %v counts %+v", r.Score, r.Passed, r.After)
	}
	wantContains(t, "enforce output", res.Output, "  [fixed] ssh.permit-root-login", "golden-harden: report left on the target at /var/log/golden/harden-report.json")
	assertOneLinePerControl(t, r, res.Output)
	wantContains(t, "markdown report", p.ReadFile(t, "enforce.md"), "| before |", "| after |", "## Changed files")
	wantContains(t, "junit report", p.ReadFile(t, "enforce.xml"), `<testsuite name="golden-harden"`, `classname="golden-harden.ssh"`)
	assertReportItems(t, p.ReadFile(t, "enforce.json"), r)
	assertBuildUserKeepsAccess(t, h)
	session.assertSurvived(t)
	// sshd reloaded its new configuration in place: same process, and a new connection can no
	// longer use a cipher the configuration dropped.
	if session.dialsWith(t, staleCipher) {
		t.Errorf("sshd still accepts %s: its new configuration is not in force", staleCipher)
	}

	// Backups: every changed file is listed, with its original kept on the image.
	assertBackups(t, h, r)
	if mode := h.MustRun(t, "sudo stat -c '%a %U:%G' /var/log/golden/harden-report.json"); mode != "600 root:root\n" {
		t.Errorf("the report on the image is %q, want readable by root only", mode)
	}
	onImage := h.MustRun(t, "sudo cat /var/log/golden/harden-report.json")
	if img, err := report.ParseJSON([]byte(onImage)); err != nil || img.Score != r.Score || len(img.Items) != len(r.Items) {
		t.Errorf("report on the image differs: %v", err)
	}
	// In the container the kernel.* parameters are the host's, and chronyd may not set the clock:
	// those controls are configured and reported in force at the next boot, never failed.
	if r.Property("in_container") != "true" {
		t.Fatalf("the lab target is a container, but the report says in_container=%q", r.Property("in_container"))
	}
	nextBoot := map[string]bool{"sysctl.custom": true, "chrony.service": true,
		"sysctl.aslr": readHostSysctl(t, "kernel/randomize_va_space") != "2"}
	for id, want := range nextBoot {
		it := reportItem(r, id)
		if it == nil || it.NextBoot != want || (it.Status != report.StatusPass && it.Status != report.StatusFixed) {
			t.Errorf("%s: want pass or fixed with next_boot=%v: %+v", id, want, it)
			continue
		}
		if line := regexp.MustCompile(`\[(pass|fixed)\] ` + regexp.QuoteMeta(id) + `: .*\(in force after the next boot\)`); line.MatchString(res.Output) != want {
			t.Errorf("the progress line of %s must say whether it is in force only after the next boot (%v)", id, want)
		}
	}
	if got := readHostSysctl(t, "kernel/dmesg_restrict"); got != hostDmesg {
		t.Errorf("the run changed the host's kernel.dmesg_restrict: %s -> %s", hostDmesg, got)
	}

	// The controls' real effect on the target.
	sshd := h.MustRun(t, "sudo sshd -T -C user="+h.User+",host=x,addr=127.0.0.1")
	wantContains(t, "sshd -T", sshd, "permitrootlogin no", "passwordauthentication no", "maxauthtries 4",
		"ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr", "x11forwarding no",
		"permitemptypasswords no", "permituserenvironment no", "hostbasedauthentication no", "ignorerhosts yes",
		"loglevel VERBOSE", "clientaliveinterval 15", "logingracetime 60", "banner /etc/issue.net")
	ufw := h.MustRun(t, "sudo ufw status verbose")
	wantContains(t, "ufw status", ufw, "Status: active", "Default: deny (incoming)", fmt.Sprintf("%d/tcp", h.Port))
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d/tcp\s+ALLOW IN`, h.Port)).MatchString(ufw) {
		t.Errorf("the SSH port is not allowed:\n%s", ufw)
	}
	sysctlFiles := h.MustRun(t, "sudo grep -rh '' /etc/sysctl.d/")
	wantContains(t, "sysctl.d", sysctlFiles, "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.all.log_martians", "kernel.randomize_va_space",
		"net.ipv4.conf.all.arp_ignore", "kernel.dmesg_restrict = "+dmesg, "kernel.kptr_restrict = 2")
	for _, kv := range [][2]string{{"net.ipv4.conf.all.send_redirects", "0"}, {"net.ipv4.conf.all.accept_redirects", "0"},
		{"net.ipv4.conf.all.log_martians", "1"}, {"net.ipv4.tcp_syncookies", "1"}, {"net.ipv4.conf.all.arp_ignore", "1"}} {
		if got := strings.TrimSpace(h.MustRun(t, "/sbin/sysctl -n "+kv[0])); got != kv[1] {
			t.Errorf("live %s = %s, want %s", kv[0], got, kv[1])
		}
	}
	// procps' /usr/lib/sysctl.d/99-protect-links.conf is read after our file and set
	// fs.protected_fifos = 1: a copy in /etc/sysctl.d masks it, that line commented out.
	if h.MustRun(t, "test -f /usr/lib/sysctl.d/99-protect-links.conf && echo vendor") == "vendor\n" {
		wantContains(t, "the mask of 99-protect-links.conf", h.MustRun(t, "cat /etc/sysctl.d/99-protect-links.conf"),
			"# golden-harden: fs.protected_fifos = 1", "fs.protected_symlinks = 1")
	}
	boot := h.MustRun(t, `/lib/systemd/systemd-sysctl --cat-config | awk -F' *= *' '$1 == "fs.protected_fifos" { v = $2 } END { print v }'`)
	if strings.TrimSpace(boot) != "2" {
		t.Errorf("at boot fs.protected_fifos is %q, want 2", boot)
	}
	// ufw applies its sysctl file on every reload and boot: that must not undo log_martians.
	h.MustRun(t, "sudo ufw reload")
	if got := strings.TrimSpace(h.MustRun(t, "/sbin/sysctl -n net.ipv4.conf.all.log_martians")); got != "1" {
		t.Errorf("after `ufw reload` log_martians is %s: ufw's sysctl file undid the sysctl module", got)
	}
	wantContains(t, "fail2ban sshd jail", h.MustRun(t, "sudo fail2ban-client status sshd"), "Status for the jail: sshd")
	jail := h.MustRun(t, "for k in bantime findtime maxretry; do sudo fail2ban-client get sshd $k; done; sudo grep -h '^backend' /etc/fail2ban/jail.d/golden-sshd.local")
	if want := "3600\n600\n3\nbackend = systemd\n"; jail != want {
		t.Errorf("the running sshd jail: %q, want the seed's bantime, findtime and maxretry on the journal: %q", jail, want)
	}
	// jail.local, where scanners look, states the jail the drop-in puts in force.
	wantContains(t, "jail.local", h.MustRun(t, "sudo cat /etc/fail2ban/jail.local"), "[sshd]", "backend = systemd", "bantime = 3600", "maxretry = 3")
	// The main sshd_config states what the drop-in puts in force, for scanners reading only it.
	wantContains(t, "sshd_config", h.MustRun(t, "sudo grep -Ei '^(PermitRootLogin|ClientAliveInterval|MaxAuthTries|Compression|AllowAgentForwarding) ' /etc/ssh/sshd_config"),
		"PermitRootLogin no", "ClientAliveInterval 15", "MaxAuthTries 4", "Compression no", "AllowAgentForwarding no")
	wantContains(t, "chrony sources", h.MustRun(t, "sudo cat /etc/chrony/sources.d/golden.sources"), "server 169.254.169.123 prefer iburst")
	wantContains(t, "modprobe.d", h.MustRun(t, "sudo cat /etc/modprobe.d/golden-hardening.conf"),
		"install cramfs /bin/false", "blacklist cramfs", "install usb-storage /bin/false")
	wantContains(t, "modprobe -n -v cramfs", h.MustRun(t, "sudo modprobe -n -v cramfs 2>&1 || true"), "install /bin/false")
	if out := h.MustRun(t, "sudo modprobe -n -v squashfs 2>&1 || true"); strings.Contains(out, "/bin/false") {
		t.Errorf("squashfs is blacklisted by the default profile (snaps need it): %s", out)
	}

	// 3. Enforce again: every control passes, no file changes, nothing backed up.
	snapshot := h.MustRun(t, etcState)
	again, res := hardenBuild(t, p, h, "again", cisLevel1Body(dmesg))
	if again == nil {
		t.Fatalf("second enforce build failed: exit %d", res.ExitCode)
	}
	if bad := notOK(again, report.StatusPass, report.StatusSkipped); bad != "" {
		t.Errorf("the second run was not clean:\n%s", bad)
	}
	for _, it := range again.Items {
		if len(it.Backups) > 0 {
			t.Errorf("the second run changed %s: %v", it.ID, it.Backups)
		}
	}
	if len(again.ChangedFiles) != 0 {
		t.Errorf("the second run lists changed files: %v", again.ChangedFiles)
	}
	if d := diffLines(snapshot, h.MustRun(t, etcState)); d != "" {
		t.Errorf("the second run changed /etc:\n%s", d)
	}
	assertBuildUserKeepsAccess(t, h)
	session.assertSurvived(t)
}

func reportItem(r *report.Report, id string) *report.Item {
	for i := range r.Items {
		if r.Items[i].ID == id {
			return &r.Items[i]
		}
	}
	return nil
}

// assertOneLinePerControl: the build's output has exactly one progress line per control, with
// the control's final status.
func assertOneLinePerControl(t *testing.T, r *report.Report, output string) {
	t.Helper()
	for _, it := range r.Items {
		if n := strings.Count(output, "] "+it.ID+": "); n != 1 || !strings.Contains(output, "["+it.Status+"] "+it.ID+": ") {
			t.Errorf("%d progress lines for %s (status %s) in the build output", n, it.ID, it.Status)
		}
	}
}

// assertReportItems: every item of the JSON report carries its id, level, status, duration, and
// the CIS controls their references to both benchmark editions.
func assertReportItems(t *testing.T, raw string, r *report.Report) {
	t.Helper()
	var doc struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	for _, it := range doc.Items {
		for _, key := range []string{"id", "level", "status", "duration_ms"} {
			if _, ok := it[key]; !ok {
				t.Errorf("report item %v has no %s", it["id"], key)
			}
		}
	}
	root := reportItem(r, "ssh.permit-root-login")
	if root == nil || root.Level != 1 || len(root.Refs) != 2 || root.Evidence == "" || root.Refs[0].Version == "" || root.Refs[1].Version == "" ||
		root.Refs[0].Benchmark == root.Refs[1].Benchmark {
		t.Errorf("ssh.permit-root-login in the report: %+v", root)
	}
}

// assertBackups: every file the report lists as changed has a line in its module's backup
// manifest, and the original of every file that existed is kept there.
func assertBackups(t *testing.T, h *lab.TargetHost, r *report.Report) {
	t.Helper()
	if len(r.ChangedFiles) == 0 || r.BackupDir == "" {
		t.Fatalf("no changed files or backup dir in the report: %+v", r.ChangedFiles)
	}
	// One line per backed up file: "<module dir> <kind> <mode> <uid> <gid> <path>".
	manifests := h.MustRun(t, "sudo sh -c 'for m in "+r.BackupDir+`/*/.manifest; do sed "s|^|${m%/.manifest} |" "$m"; done'`)
	kept := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(manifests), "\n") {
		f := strings.Fields(l)
		if len(f) != 6 {
			t.Fatalf("backup manifest line %q", l)
		}
		kept[f[5]] = f[0] + " " + f[1]
	}
	var copies []string
	for _, file := range r.ChangedFiles {
		dir, kind, ok := strings.Cut(kept[file], " ")
		if !ok {
			t.Errorf("%s was changed but is in no backup manifest", file)
			continue
		}
		if kind == "F" || kind == "L" {
			copies = append(copies, dir+file)
		}
	}
	if out, err := h.Run(t, "for f in "+strings.Join(copies, " ")+"; do sudo test -e \"$f\" || sudo test -L \"$f\" || echo \"missing $f\"; done"); err != nil || out != "" {
		t.Errorf("backup copies missing: %v\n%s", err, out)
	}
}

// staleCipher is offered by Debian 12's sshd out of the box and dropped by the ssh module.
const staleCipher = "chacha20-poly1305@openssh.com"

// sessionProbe holds an SSH connection open across builds, and tells sshd's process apart.
type sessionProbe struct {
	h       *lab.TargetHost
	conn    *ssh.Client
	sshdPID string
	bootID  string
}

const sshdPIDAndBoot = "systemctl show -p MainPID --value ssh; cat /proc/sys/kernel/random/boot_id"

func newSessionProbe(t *testing.T, h *lab.TargetHost) *sessionProbe {
	t.Helper()
	s := &sessionProbe{h: h, conn: h.Client(t)}
	s.sshdPID, s.bootID, _ = strings.Cut(s.run(t, sshdPIDAndBoot), "\n")
	return s
}

func (s *sessionProbe) run(t *testing.T, cmd string) string {
	t.Helper()
	sess, err := s.conn.NewSession()
	if err != nil {
		t.Fatalf("the SSH connection opened before the run is gone: %v", err)
	}
	defer sess.Close()
	out, err := sess.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("on the connection opened before the run: %s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// assertSurvived: the connection opened before the run still works, sshd is the same process
// (reloaded, never restarted) and the machine did not reboot.
func (s *sessionProbe) assertSurvived(t *testing.T) {
	t.Helper()
	pid, boot, _ := strings.Cut(s.run(t, sshdPIDAndBoot), "\n")
	if pid != s.sshdPID {
		t.Errorf("sshd was restarted (main PID %s, then %s): it must only be reloaded", s.sshdPID, pid)
	}
	if boot != s.bootID {
		t.Error("the target rebooted during the run")
	}
}

// probeNewConnections opens a new SSH connection every quarter second until the returned func is
// called, which fails the test if any attempt timed out: a firewall that denies before it allows
// the SSH port drops new connections silently. (An attempt refused while sshd re-executes itself on
// reload is retried by any client and is only logged.)
func (s *sessionProbe) probeNewConnections(t *testing.T) (stop func()) {
	t.Helper()
	cfg, err := s.h.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 5 * time.Second
	done := make(chan struct{})
	var attempts int
	var timeouts, others []string
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-time.After(250 * time.Millisecond):
			}
			attempts++
			err := dialOnce(s.h.Address(), cfg)
			var netErr net.Error
			switch {
			case err == nil:
			case errors.As(err, &netErr) && netErr.Timeout():
				timeouts = append(timeouts, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), err))
			default:
				others = append(others, err.Error())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		t.Logf("%d new SSH connections during the run; %d refused or reset (retried by any client): %v", attempts, len(others), others)
		if len(timeouts) > 0 {
			t.Errorf("new SSH connections timed out during the run (the firewall dropped them):\n%s", strings.Join(timeouts, "\n"))
		}
		if attempts == 0 {
			t.Error("no new SSH connection was tried during the run")
		}
	}
}

// dialOnce opens and closes one SSH connection, bounded in time from the TCP connect to the end
// of authentication.
func dialOnce(addr string, cfg *ssh.ClientConfig) error {
	conn, err := net.DialTimeout("tcp", addr, cfg.Timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(2 * cfg.Timeout)); err != nil {
		return err
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		return err
	}
	return ssh.NewClient(c, chans, reqs).Close()
}

// dialsWith reports whether a new connection that offers only this cipher gets in.
func (s *sessionProbe) dialsWith(t *testing.T, cipher string) bool {
	t.Helper()
	cfg, err := s.h.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Ciphers = []string{cipher}
	return dialOnce(s.h.Address(), cfg) == nil
}

// TestHardenBaselineOnPort2222 runs the baseline profile (auditd with the seed's rules included)
// on a target whose sshd listens on 2222, packages installed by the run itself.
func TestHardenBaselineOnPort2222(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	h := lab.Target(t, lab.WithSSHPort(2222))
	p := lab.Packer(t)
	// Access lists that name other users, and even the build user among the denied: the build
	// user must keep its access whatever they say.
	r, res := hardenBuild(t, p, h, "baseline", fmt.Sprintf(`    profile = "baseline"
    firewall {
      allow = ["443/tcp"]
    }
    ssh {
      allow_users = ["ops"]
      deny_users  = ["guest", %q]
    }`, h.User))
	if r == nil {
		t.Fatalf("baseline build failed: exit %d", res.ExitCode)
	}
	if bad := notOK(r, report.StatusPass, report.StatusFixed, report.StatusSkipped); bad != "" {
		t.Errorf("controls not compliant after the baseline:\n%s", bad)
	}
	assertBuildUserKeepsAccess(t, h)
	access := h.MustRun(t, "sudo sshd -T -C user="+h.User+",host=x,addr=127.0.0.1 | grep -E '^(allow|deny)users'")
	if !regexp.MustCompile(`(?m)^allowusers .*\b`+h.User+`\b`).MatchString(access) || !strings.Contains(access, "ops") ||
		regexp.MustCompile(`(?m)^denyusers .*\b`+h.User+`\b`).MatchString(access) || !strings.Contains(access, "denyusers guest") {
		t.Errorf("sshd access lists must name ops, deny guest, and let the build user %s in:\n%s", h.User, access)
	}
	ufw := h.MustRun(t, "sudo ufw status verbose")
	wantContains(t, "ufw status", ufw, "Status: active")
	for _, port := range []string{"2222", "443"} {
		if !regexp.MustCompile(`(?m)^` + port + `/tcp\s+ALLOW IN`).MatchString(ufw) {
			t.Errorf("port %s/tcp not allowed:\n%s", port, ufw)
		}
	}
	if regexp.MustCompile(`(?m)^22/tcp`).MatchString(ufw) {
		t.Errorf("port 22 opened although sshd listens on 2222:\n%s", ufw)
	}
	rules := h.MustRun(t, "sudo sh -c 'cat /etc/audit/rules.d/*.rules'")
	wantContains(t, "audit rules", rules, "-e 2", "arch=b32")
	h.MustRun(t, "sudo augenrules --check")
	if conf := h.MustRun(t, "sudo cat /etc/audit/auditd.conf"); !regexp.MustCompile(`(?mi)^max_log_file_action\s*=\s*rotate$`).MatchString(conf) {
		t.Errorf("auditd.conf does not rotate its logs:\n%s", conf)
	}
	var immutable *report.Item
	for i := range r.Items {
		if r.Items[i].ID == "auditd.immutable" {
			immutable = &r.Items[i]
		}
	}
	if immutable == nil || !immutable.NextBoot {
		t.Errorf("auditd.immutable must be reported in force at next boot: %+v", immutable)
	}
}

// TestHardenRollsBackABadSSHConfig uses a key exchange algorithm that passes validation but that
// Debian 12's OpenSSH does not know: `sshd -t` fails, the ssh module is rolled back and reported
// failed, sshd keeps running with its old configuration, and the build user still gets in.
func TestHardenRollsBackABadSSHConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
	p := lab.Packer(t)
	sshBefore := h.MustRun(t, "sudo find /etc/ssh -printf '%m %u %p\n' | sort; sudo cat /etc/ssh/sshd_config /etc/ssh/sshd_config.d/* 2>/dev/null")
	r, res := hardenBuild(t, p, h, "rollback", `    only_controls = ["ssh"]
    on_failure = "warn"
    ssh {
      kex_algorithms = ["mlkem768x25519-sha256", "curve25519-sha256"]
    }`)
	if r == nil {
		t.Fatalf("build failed although on_failure = warn: exit %d", res.ExitCode)
	}
	wantContains(t, "packer output", res.Output, "golden-harden: warning: score")
	rolledBack := 0
	for _, it := range r.Items {
		if it.RolledBack {
			rolledBack++
			if it.Status != report.StatusFailed || !strings.Contains(it.Message, "finalize of module ssh failed") {
				t.Errorf("%s: %+v", it.ID, it)
			}
		}
	}
	if rolledBack == 0 || r.Passed {
		t.Fatalf("nothing rolled back:\n%s", notOK(r, report.StatusPass))
	}
	if after := h.MustRun(t, "sudo find /etc/ssh -printf '%m %u %p\n' | sort; sudo cat /etc/ssh/sshd_config /etc/ssh/sshd_config.d/* 2>/dev/null"); after != sshBefore {
		t.Errorf("/etc/ssh not restored:\n%s", diffLines(sshBefore, after))
	}
	h.MustRun(t, "sudo sshd -t")
	assertBuildUserKeepsAccess(t, h)

	// With on_failure = fail (the default) the same template fails the build.
	_, res = hardenBuild(t, p, h, "rollback-fail", `    only_controls = ["ssh"]
    ssh {
      kex_algorithms = ["mlkem768x25519-sha256", "curve25519-sha256"]
    }`)
	if res.ExitCode == 0 || !strings.Contains(res.Output, "is below fail_below 100%") {
		t.Errorf("a rolled-back module did not fail the build: exit %d\n%s", res.ExitCode, res.Output)
	}
	assertBuildUserKeepsAccess(t, h)

	// A waiver with a justification and an expiry reports the failure `waived`: the build goes on.
	const badKex = `    only_controls = ["ssh.kex-algorithms"]
    ssh {
      kex_algorithms = ["mlkem768x25519-sha256", "curve25519-sha256"]
    }`
	waiver := func(expires string) string {
		return fmt.Sprintf(`
    waiver {
      control       = "ssh.kex-algorithms"
      justification = "post-quantum key exchange once the image's OpenSSH knows it"
      expires       = %q
    }`, expires)
	}
	waived, res := hardenBuild(t, p, h, "waived", badKex+waiver("2099-12-31"))
	if waived == nil {
		t.Fatalf("a waived failure failed the build: exit %d\n%s", res.ExitCode, res.Output)
	}
	kex := reportItem(waived, "ssh.kex-algorithms")
	if kex == nil || kex.Status != report.StatusWaived || !kex.RolledBack || kex.Waiver == nil || kex.Waiver.Expires != "2099-12-31" ||
		!strings.Contains(kex.Waiver.Justification, "post-quantum") || waived.Score != 100 || !waived.Passed {
		t.Errorf("waived run: score %.1f passed %v, item %+v", waived.Score, waived.Passed, kex)
	}
	wantContains(t, "waived output", res.Output, "  [waived] ssh.kex-algorithms: ")
	wantContains(t, "waived markdown", p.ReadFile(t, "waived.md"), "post-quantum key exchange")
	// Once expired, the waiver is ignored with a warning and the failure fails the build again.
	_, res = hardenBuild(t, p, h, "expired", badKex+waiver("2020-01-31"))
	if res.ExitCode == 0 || !strings.Contains(res.Output, "the waiver for ssh.kex-algorithms expired on 2020-01-31 and is ignored") {
		t.Errorf("an expired waiver: exit %d\n%s", res.ExitCode, res.Output)
	}
	if expired, err := report.ParseJSON([]byte(p.ReadFile(t, "expired.json"))); err != nil || reportItem(expired, "ssh.kex-algorithms").Status != report.StatusFailed {
		t.Errorf("an expired waiver still waives: %v", err)
	}
	assertBuildUserKeepsAccess(t, h)
}

// TestHardenValidate checks that `packer validate` reports bad ids and values, naming the option,
// before any machine exists, and that the example template and every example of the docs page
// are valid.
func TestHardenValidate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	p := lab.Packer(t)
	file := p.WriteFile(t, "bad.pkr.hcl", hardenTemplate(`    skip = ["ssh.permit-root-logn"]
    only_controls = ["sysctll"]
    mode = "fix"
    ssh {
      max_auth_tries = 99
    }
    firewall {
      allow = ["70000/tcp", "10.0.0.0/33:22/tcp"]
    }
    fail2ban {
      ignoreip = ["10.0.0.300/8"]
    }
    sysctl {
      overrides = { "net.ipv4..ip_forward" = "0" }
    }
    waiver {
      control       = "auditd.immutabel"
      justification = "x"
      expires       = "2027-01-31"
    }`))
	// packer validate reads the communicator's key too: give it a real (throwaway) one.
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := &lab.TargetHost{Host: "192.0.2.1", Port: 22, User: "admin", KeyPath: p.WriteFile(t, "id_ed25519", string(pem.EncodeToMemory(block)))}
	res := p.Run(t, append(append([]string{"validate"}, nowhere.PackerVars()...), file)...)
	if res.ExitCode == 0 {
		t.Fatalf("packer validate accepted a bad configuration:\n%s", res.Output)
	}
	// packer wraps long error lines: compare with the whitespace folded.
	wantContains(t, "packer validate", strings.Join(strings.Fields(res.Output), " "),
		`skip: unknown control id or module "ssh.permit-root-logn"; did you mean "ssh.permit-root-login"?`,
		`only_controls: unknown control id or module "sysctll"; did you mean "sysctl"?`,
		`mode: must be enforce or audit`,
		`ssh.max_auth_tries`,
		`firewall.allow: "70000/tcp": port "70000" must be a number from 1 to 65535`,
		`firewall.allow: "10.0.0.0/33:22/tcp": "10.0.0.0/33" is not an IP network (CIDR) or address`,
		`fail2ban.ignoreip: "10.0.0.300/8" is not an IP address or network (CIDR)`,
		`sysctl.overrides: "net.ipv4..ip_forward" is not a sysctl name`,
		`did you mean "auditd.immutable"?`)

	example := filepath.Join(lab.RepoRoot(t), "example", "harden.pkr.hcl")
	if res := p.Run(t, "validate", "-var", "key="+nowhere.KeyPath, example); res.ExitCode != 0 {
		t.Errorf("packer validate example/harden.pkr.hcl:\n%s", res.Output)
	}

	docs, err := os.ReadFile(filepath.Join(lab.RepoRoot(t), "docs", "provisioners", "harden.mdx"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := docsProvisionerBlocks(string(docs))
	if len(blocks) < 3 {
		t.Fatalf("found %d golden-harden blocks in docs/provisioners/harden.mdx", len(blocks))
	}
	for i, b := range blocks {
		file := p.WriteFile(t, fmt.Sprintf("docs-%d.pkr.hcl", i+1), lab.NullSSHTemplate(b))
		if res := p.Run(t, append(append([]string{"validate"}, nowhere.PackerVars()...), file)...); res.ExitCode != 0 {
			t.Errorf("example %d of the docs page is not valid:\n%s\n%s", i+1, b, res.Output)
		}
	}
}

// docsProvisionerBlocks returns every `provisioner "golden-harden" { ... }` block of the HCL
// examples of a docs page.
func docsProvisionerBlocks(page string) []string {
	var blocks []string
	for _, fence := range regexp.MustCompile("(?s)```hcl\n(.*?)```").FindAllStringSubmatch(page, -1) {
		code := fence[1]
		for {
			start := strings.Index(code, `provisioner "golden-harden" {`)
			if start < 0 {
				break
			}
			depth, end := 0, -1
			for i := start; i < len(code) && end < 0; i++ {
				switch code[i] {
				case '{':
					depth++
				case '}':
					if depth--; depth == 0 {
						end = i + 1
					}
				}
			}
			if end < 0 {
				break
			}
			blocks = append(blocks, code[start:end])
			code = code[end:]
		}
	}
	return blocks
}

// TestHardenRollsBackARefusedFail2banJail: a target whose fail2ban cannot read the journal (its
// journal reader removed) refuses the journal jail golden-harden writes, which fail2ban-client -t
// passes: the refusal shows in the wait for the jail after the restart, the module's files are
// restored, fail2ban runs its packaged sshd jail again, and the build user keeps SSH.
func TestHardenRollsBackARefusedFail2banJail(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
	p := lab.Packer(t)
	h.MustRun(t, "sudo dpkg -r --force-depends python3-systemd >/dev/null 2>&1; ! python3 -c 'import systemd.journal' 2>/dev/null")
	const state = "sudo find /etc/fail2ban -printf '%m %u %p\\n' | sort; sudo sh -c 'cat /etc/fail2ban/jail.d/*; cat /etc/fail2ban/jail.local 2>/dev/null; true'"
	before := h.MustRun(t, state)
	wantContains(t, "the packaged sshd jail", h.MustRun(t, "sudo fail2ban-client status sshd"), "/var/log/auth.log")
	r, res := hardenBuild(t, p, h, "fail2ban-refused", `    only_controls = ["fail2ban.sshd-jail", "fail2ban.service"]
    on_failure = "warn"`)
	if r == nil {
		t.Fatalf("build failed although on_failure = warn: exit %d", res.ExitCode)
	}
	jail := reportItem(r, "fail2ban.sshd-jail")
	if jail == nil || jail.Status != report.StatusFailed || !jail.RolledBack {
		t.Fatalf("fail2ban.sshd-jail was not rolled back:\n%s", notOK(r, report.StatusPass))
	}
	wantContains(t, "fail2ban.sshd-jail's message", jail.Message, "finalize of module fail2ban failed", "the sshd jail did not start")
	if after := h.MustRun(t, state); after != before {
		t.Errorf("/etc/fail2ban not restored:\n%s", diffLines(before, after))
	}
	wantContains(t, "the sshd jail after the rollback", h.MustRun(t, "sudo fail2ban-client status sshd"), "Status for the jail: sshd", "/var/log/auth.log")
	assertBuildUserKeepsAccess(t, h)
}
