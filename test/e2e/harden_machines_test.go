package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// golden-harden on lab machines: cloud images booted the way EC2 boots them (DHCP, the vendor's
// cloud-init creating the default user with the launch's key, the vendor's sshd), hardened by the
// real packer binary over SSH.

// laterLaunchUserData is the user data of a later launch of the hardened image that adds a user
// of its own, key-only, as teams add their operators' accounts.
func laterLaunchUserData(publicKey string) string {
	return fmt.Sprintf(`#cloud-config
users:
  - default
  - name: ops
    shell: /bin/bash
    groups: [sudo]
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys: [%q]
`, publicKey)
}

// ageAccounts moves the password dates of the users 400 days into the past: what PAM's account
// stack sees 400 days after their creation (a machine's clock is the host's and cannot move).
func ageAccounts(t *testing.T, m *lab.MachineHost, users ...string) {
	t.Helper()
	day := time.Now().UTC().AddDate(0, 0, -400).Format(time.DateOnly)
	// One session for all: an aged account may no longer log in to age the next.
	var cmds []string
	for _, u := range users {
		cmds = append(cmds, fmt.Sprintf("sudo chage --lastday %s %s", day, u))
	}
	m.MustRun(t, strings.Join(cmds, " && "))
}

// assertLogsIn opens a NEW SSH connection as each user with its key and runs sudo.
func assertLogsIn(t *testing.T, m *lab.MachineHost, when string, keys map[string]ssh.Signer) {
	t.Helper()
	for u, signer := range keys {
		out, err := m.Login(u, signer, "id -un && sudo -n true && echo sudo-ok")
		if err != nil || !strings.Contains(out, u) || !strings.Contains(out, "sudo-ok") {
			ages, _ := m.Run(t, "sudo chage -l "+u)
			t.Errorf("%s: %s lost SSH or sudo on %s: %v\n%s\npassword ages:\n%s", when, u, m.OS, err, out, ages)
		}
	}
}

// TestHardenKeyOnlyUserOfALaterLaunch hardens the login module (PASS_MAX_DAYS 365, `useradd -D
// -f 30`), then launches the hardened disk again as a new instance, as an AMI built from it is
// launched: the build removed its build account, so cloud-init creates the default user anew, and
// the user data adds another key-only user. Both are created under the hardened defaults, with a
// locked password nobody will change; 400 days later, and after a reboot, they must still log in
// with their key and use sudo. It runs on Debian 12 unless GOLDEN_HARDEN_OSES names releases (or
// all): on Ubuntu 22.04, make test's other release, the matrix's cis-level1-server case relaunches
// its hardened disk the same way.
func TestHardenKeyOnlyUserOfALaterLaunch(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	for _, osName := range matrixList("GOLDEN_HARDEN_OSES", allMatrixOSes, []string{"debian-12"}) {
		t.Run(osName, func(t *testing.T) {
			t.Parallel()
			keyOnlyUserOfALaterLaunch(t, osName)
		})
	}
}

func keyOnlyUserOfALaterLaunch(t *testing.T, osName string) {
	m := lab.Machine(t, osName)
	p := lab.Packer(t)
	r, res := hardenBuild(t, p, m.TargetHost, "login", `    only_controls = ["login"]`)
	if r == nil {
		t.Fatalf("packer build exited %d", res.ExitCode)
	}
	if bad := notOK(r, report.StatusPass, report.StatusFixed, report.StatusSkipped); bad != "" {
		t.Fatalf("login controls not compliant after the run:\n%s", bad)
	}
	defs := m.MustRun(t, "awk '$1 == \"PASS_MAX_DAYS\" { print \"max=\" $2 }' /etc/login.defs; sudo useradd -D | grep INACTIVE")
	wantContains(t, "login defaults", defs, "max=365", "INACTIVE=30")

	// The pipeline's last step: the build account goes (its session keeps running).
	m.MustRun(t, "sudo userdel --force --remove "+m.User+" 2>&1 | grep -v 'currently used' || true")
	// ops logs in with the key of the first launch, the default user with the later launch's.
	opsKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(m.Signer.PublicKey())))
	later := m.Relaunch(t, lab.WithUserData(laterLaunchUserData(opsKey)))
	users := []string{later.User, "ops"}
	keys := map[string]ssh.Signer{later.User: later.Signer, "ops": m.Signer}
	for _, u := range users {
		shadow := later.MustRun(t, "sudo getent shadow "+u)
		if f := strings.Split(strings.TrimSpace(shadow), ":"); len(f) < 7 || !strings.HasPrefix(f[1], "!") {
			t.Fatalf("%s on the later launch is not a key-only account with a locked password: %q", u, shadow)
		}
	}
	assertLogsIn(t, later, "at the later launch", keys)
	ageAccounts(t, later, users...)
	assertLogsIn(t, later, "400 days after the later launch", keys)
	later.Reboot(t)
	assertLogsIn(t, later, "400 days later, after a reboot", keys)
	// An account with a password keeps the ageing CIS asks for.
	later.MustRun(t, "sudo useradd -m pwuser && echo pwuser:S3cret-pass-2026 | sudo chpasswd")
	later.Reboot(t)
	if ages := later.MustRun(t, "sudo chage -l pwuser"); !strings.Contains(ages, "Maximum number of days between password change\t\t: 365") {
		t.Errorf("an account with a password lost its maximum password age:\n%s", ages)
	}
}
