package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// golden-harden end to end: the real packer binary, the null builder with the SSH communicator to
// a Debian 12 target, the provisioner as a template writes it. The target is a systemd-nspawn
// container: kernel.* sysctls, auditd's kernel side and the clock are the host's, so those
// controls end "in force after the next boot" there, which the report must say.

// hardenTemplate is a null build running golden-harden with the given provisioner body.
func hardenTemplate(body string) string {
	return `
packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

variable "host" { type = string }
variable "port" { type = number }
variable "user" { type = string }
variable "key"  { type = string }

source "null" "target" {
  communicator         = "ssh"
  ssh_host             = var.host
  ssh_port             = var.port
  ssh_username         = var.user
  ssh_private_key_file = var.key
  ssh_timeout          = "2m"
}

build {
  sources = ["source.null.target"]

  provisioner "golden-harden" {
` + body + `
  }
}
`
}

func hardenVars(h *lab.TargetHost) []string {
	return []string{"-var", "host=" + h.Host, "-var", "port=" + strconv.Itoa(h.Port), "-var", "user=" + h.User, "-var", "key=" + h.KeyPath}
}

// hardenBuild writes the template, runs `packer build` and returns the JSON report it wrote.
func hardenBuild(t *testing.T, p *lab.PackerEnv, h *lab.TargetHost, name, body string) (*report.Report, lab.Result) {
	t.Helper()
	body = fmt.Sprintf("    report = %q\n    report_junit = %q\n    report_markdown = %q\n%s", name+".json", name+".xml", name+".md", body)
	file := p.WriteFile(t, name+".pkr.hcl", hardenTemplate(body))
	res := p.Run(t, append(append([]string{"build", "-color=false"}, hardenVars(h)...), file)...)
	if res.ExitCode != 0 || !strings.Contains(res.Output, "golden-harden: report left on the target") {
		t.Logf("packer output:\n%s", res.Output)
		return nil, res
	}
	r, err := report.ParseJSON([]byte(p.ReadFile(t, name+".json")))
	if err != nil {
		t.Fatal(err)
	}
	return r, res
}

// notOK lists the items whose status is not one of ok, with why.
func notOK(r *report.Report, ok ...string) string {
	var b strings.Builder
	for _, it := range r.Items {
		fine := false
		for _, s := range ok {
			fine = fine || it.Status == s
		}
		if !fine {
			fmt.Fprintf(&b, "%s: %s (before %s)\n  evidence: %s\n  message: %s\n", it.ID, it.Status, it.Before,
				strings.ReplaceAll(it.Evidence, "\n", " | "), strings.ReplaceAll(it.Message, "\n", " | "))
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

	// 2. Enforce: every applicable control ends pass or fixed.
	r, res := hardenBuild(t, p, h, "enforce", "")
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
	wantContains(t, "markdown report", p.ReadFile(t, "enforce.md"), "| before |", "| after |", "## Changed files")
	wantContains(t, "junit report", p.ReadFile(t, "enforce.xml"), `<testsuite name="golden-harden"`, `classname="golden-harden.ssh"`)
	assertBuildUserKeepsAccess(t, h)

	// Backups: every changed file is listed and has its copy on the image.
	if len(r.ChangedFiles) == 0 || r.BackupDir == "" {
		t.Fatalf("no changed files or backup dir in the report: %+v", r.ChangedFiles)
	}
	h.MustRun(t, "sudo test -f "+r.BackupDir+"/ssh/etc/ssh/sshd_config || sudo grep -q /etc/ssh "+r.BackupDir+"/ssh/.manifest")
	onImage := h.MustRun(t, "sudo cat /var/log/golden/harden-report.json")
	if img, err := report.ParseJSON([]byte(onImage)); err != nil || img.Score != r.Score || len(img.Items) != len(r.Items) {
		t.Errorf("report on the image differs: %v", err)
	}

	// The controls' real effect on the target.
	sshd := h.MustRun(t, "sudo sshd -T -C user="+h.User+",host=x,addr=127.0.0.1")
	wantContains(t, "sshd -T", sshd, "permitrootlogin no", "passwordauthentication no", "maxauthtries 4",
		"ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr", "x11forwarding no",
		"permitemptypasswords no", "loglevel VERBOSE", "clientaliveinterval 15")
	ufw := h.MustRun(t, "sudo ufw status verbose")
	wantContains(t, "ufw status", ufw, "Status: active", "Default: deny (incoming)", fmt.Sprintf("%d/tcp", h.Port))
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^%d/tcp\s+ALLOW IN`, h.Port)).MatchString(ufw) {
		t.Errorf("the SSH port is not allowed:\n%s", ufw)
	}
	sysctlFiles := h.MustRun(t, "sudo grep -rh '' /etc/sysctl.d/")
	wantContains(t, "sysctl.d", sysctlFiles, "net.ipv4.conf.all.send_redirects", "net.ipv4.conf.all.log_martians", "kernel.randomize_va_space")
	for _, kv := range [][2]string{{"net.ipv4.conf.all.send_redirects", "0"}, {"net.ipv4.conf.all.accept_redirects", "0"}, {"net.ipv4.conf.all.log_martians", "1"}, {"net.ipv4.tcp_syncookies", "1"}} {
		if got := strings.TrimSpace(h.MustRun(t, "/sbin/sysctl -n "+kv[0])); got != kv[1] {
			t.Errorf("live %s = %s, want %s", kv[0], got, kv[1])
		}
	}
	// ufw applies its sysctl file on every reload and boot: that must not undo log_martians.
	h.MustRun(t, "sudo ufw reload")
	if got := strings.TrimSpace(h.MustRun(t, "/sbin/sysctl -n net.ipv4.conf.all.log_martians")); got != "1" {
		t.Errorf("after `ufw reload` log_martians is %s: ufw's sysctl file undid the sysctl module", got)
	}
	wantContains(t, "fail2ban sshd jail", h.MustRun(t, "sudo fail2ban-client status sshd"), "Status for the jail: sshd")
	wantContains(t, "chrony config", h.MustRun(t, "sudo cat /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf /etc/chrony/sources.d/*.sources 2>/dev/null || true"), "169.254.169.123")
	wantContains(t, "modprobe -n -v cramfs", h.MustRun(t, "sudo modprobe -n -v cramfs 2>&1 || true"), "install /bin/false")
	if out := h.MustRun(t, "sudo modprobe -n -v squashfs 2>&1 || true"); strings.Contains(out, "/bin/false") {
		t.Errorf("squashfs is blacklisted by the default profile (snaps need it): %s", out)
	}
	// 3. Enforce again: every control passes, no file changes, nothing backed up.
	snapshot := h.MustRun(t, etcState)
	again, res := hardenBuild(t, p, h, "again", "")
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
	r, res := hardenBuild(t, p, h, "baseline", `    profile = "baseline"
    firewall {
      allow = ["443/tcp"]
    }`)
	if r == nil {
		t.Fatalf("baseline build failed: exit %d", res.ExitCode)
	}
	if bad := notOK(r, report.StatusPass, report.StatusFixed, report.StatusSkipped); bad != "" {
		t.Errorf("controls not compliant after the baseline:\n%s", bad)
	}
	assertBuildUserKeepsAccess(t, h)
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
}

// TestHardenValidate checks that `packer validate` reports bad ids and values, naming the option,
// before any machine exists, and that the example template is valid.
func TestHardenValidate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	p := lab.Packer(t)
	file := p.WriteFile(t, "bad.pkr.hcl", hardenTemplate(`    skip = ["ssh.permit-root-logn"]
    mode = "fix"
    ssh {
      max_auth_tries = 99
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
	key := p.WriteFile(t, "id_ed25519", string(pem.EncodeToMemory(block)))
	res := p.Run(t, "validate", "-var", "host=h", "-var", "port=22", "-var", "user=u", "-var", "key="+key, file)
	if res.ExitCode == 0 {
		t.Fatalf("packer validate accepted a bad configuration:\n%s", res.Output)
	}
	// packer wraps long error lines: compare with the whitespace folded.
	wantContains(t, "packer validate", strings.Join(strings.Fields(res.Output), " "),
		`skip: unknown control id or module "ssh.permit-root-logn"; did you mean "ssh.permit-root-login"?`,
		`mode: must be enforce or audit`,
		`ssh.max_auth_tries`,
		`did you mean "auditd.immutable"?`)

	example := filepath.Join(lab.RepoRoot(t), "example", "harden.pkr.hcl")
	if res := p.Run(t, "validate", "-var", "key="+key, example); res.ExitCode != 0 {
		t.Errorf("packer validate example/harden.pkr.hcl:\n%s", res.Output)
	}
}
