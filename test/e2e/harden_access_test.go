package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// passwordTemplate is a null build that logs in with ssh_password only and runs golden-harden
// with body.
func passwordTemplate(body string) string {
	return lab.NullSSHPasswordTemplate("  provisioner \"golden-harden\" {\n" + body + "\n  }")
}

const buildPassword = "Build-Pass-2026-x"

// passwordLogin opens a NEW SSH connection with the password only and runs cmd.
func passwordLogin(h *lab.TargetHost, cmd string) (string, error) {
	return h.RunAs(h.User, ssh.Password(buildPassword), cmd)
}

// TestHardenRefusesToLockOutAPasswordBuild: a build that logs in with ssh_password only must not
// have password login turned off under it (its next connection would be refused). golden-harden
// refuses before changing anything, naming the option; with password_authentication = true it
// runs, and a NEW password login still works afterwards.
func TestHardenRefusesToLockOutAPasswordBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
	// The instance lets its user log in with a password, as some source images do.
	h.MustRun(t, "echo '"+h.User+":"+buildPassword+"' | sudo chpasswd && "+
		"printf 'PasswordAuthentication yes\\n' | sudo tee /etc/ssh/sshd_config.d/01-password.conf >/dev/null && "+
		"sudo sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' /etc/ssh/sshd_config.d/50-cloud-init.conf && "+
		"sudo systemctl reload ssh")
	// sshd re-executes on reload: it answers again a moment later.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(300 * time.Millisecond) {
		out, err := passwordLogin(h, "true")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no password login before the build: %v\n%s", err, out)
		}
	}
	before := h.MustRun(t, etcState)
	p := lab.Packer(t)
	vars := []string{"-var", "host=" + h.Host, "-var", "port=" + strconv.Itoa(h.Port), "-var", "user=" + h.User, "-var", "password=" + buildPassword}

	file := p.WriteFile(t, "refused.pkr.hcl", passwordTemplate(`    profile = "baseline"`))
	res := p.Run(t, append(append([]string{"build", "-color=false"}, vars...), file)...)
	if res.ExitCode == 0 {
		t.Fatalf("the build turned password login off under an ssh_password build and went on:\n%s", res.Output)
	}
	wantContains(t, "packer output", res.Output, "nothing was changed", "ssh_password", "password_authentication = true")
	if diff := diffLines(before, h.MustRun(t, etcState)); diff != "" {
		t.Errorf("the refused run changed /etc:\n%s", diff)
	}
	if out, err := passwordLogin(h, "sudo -n true && echo ok"); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("password login lost after the refused run: %v\n%s", err, out)
	}

	file = p.WriteFile(t, "kept.pkr.hcl", passwordTemplate(`    profile = "baseline"
    report  = "kept.json"
    ssh {
      password_authentication = true
    }`))
	res = p.Run(t, append(append([]string{"build", "-color=false"}, vars...), file)...)
	if res.ExitCode != 0 {
		t.Fatalf("the build with password_authentication = true failed:\n%s", res.Output)
	}
	if out, err := passwordLogin(h, "sudo -n true && echo ok"); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("a NEW password login fails after the run that kept it: %v\n%s", err, out)
	}
}
