package hardening

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// snippetRun runs a control's check or fix under dash, as a function body after prelude (stubs of
// the runtime helpers and the variables it reads), with only bin on PATH. It returns the output
// and the function's exit status.
func snippetRun(t *testing.T, bin, prelude, body string) (string, int) {
	t.Helper()
	cmd := exec.Command(requireTool(t, "dash"), "-c", prelude+"\nf() {\n"+body+"\n}\nf\n")
	cmd.Env = []string{"PATH=" + bin}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// snippetBin makes a folder for a snippet's PATH with the host's tools linked in and the stubs
// (name -> shell script) written.
func snippetBin(t *testing.T, tools []string, stubs map[string]string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools {
		if err := os.Symlink(requireTool(t, tool), filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for name, script := range stubs {
		writeFile(t, filepath.Join(bin, name), "#!/bin/sh\n"+script, 0o755)
	}
	return bin
}

// controlByID is the control of the module with that id.
func controlByID(t *testing.T, module, id string) Control {
	t.Helper()
	for _, c := range moduleByName(t, module).Controls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("%s is not in the %s module", id, module)
	return Control{}
}

// g_unit_enable enables a unit through its unit file only, without the SysV script's links and
// the manager's reload (each costs a program run of its own), falls back to a plain enable for a
// unit that only a SysV script provides, and runs nothing for a unit already enabled.
func TestUnitEnable(t *testing.T) {
	const isEnabled, enable, plainEnable = "skip= is-enabled -q -- fail2ban", "skip=1 enable -q --no-reload -- fail2ban", "skip= enable -q -- fail2ban"
	for _, tc := range []struct {
		name              string
		enabled, sysvOnly bool // the unit is enabled; systemctl refuses the enable without SysV
		calls             []string
	}{
		{"disabled", false, false, []string{isEnabled, enable}},
		{"only a SysV script", false, true, []string{isEnabled, enable, plainEnable}},
		{"already enabled", true, false, []string{isEnabled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "calls")
			bin := snippetBin(t, nil, map[string]string{"systemctl": `echo "skip=${SYSTEMCTL_SKIP_SYSV:-} $*" >>` + log + `
case "$1:${SYSTEMCTL_SKIP_SYSV:-}" in
is-enabled:*) [ ` + boolParam(tc.enabled) + ` = 1 ] ;;
enable:1) [ ` + boolParam(tc.sysvOnly) + ` = 0 ] ;;
esac
`})
			out, code := snippetRun(t, bin, runtimeScript+"\nPATH="+bin, "g_unit_enable fail2ban")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, out)
			}
			got, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Join(tc.calls, "\n") + "\n"; string(got) != want {
				t.Errorf("systemctl calls:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestPAMProfilesEnabledInOneRun: the faillock and pwhistory fixes only list their profiles (the
// pwhistory controls each ask for the same one), and the module's Finalize enables them all in one
// pam-auth-update run, fails on its "not updating" refusal, and enables nothing when it runs again
// after a rollback.
func TestPAMProfilesEnabledInOneRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refuse  bool
		wantRC  int
		wantOut string
	}{
		{"enabled", false, 0, "pam-auth-update enabled golden-faillock golden-faillock-notify golden-pwhistory"},
		{"refused", true, 1, "pam-auth-update refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "calls")
			bin := snippetBin(t, []string{"sort", "tr", "rm"}, map[string]string{"pam-auth-update": `echo "$*" >>` + log + `
[ ` + boolParam(tc.refuse) + ` = 0 ] || echo "pam-auth-update: Local modifications to /etc/pam.d/common-*, not updating."
`})
			prelude := runtimeScript + "\nPATH=" + bin + "\nG_WORK_DIR=" + dir + " G_BUILD_USER=root\n"
			defer1 := embeddedWith("pam/auth-update-defer.sh", "_pam_pending", pamPendingList, "_pam_profiles", "golden-faillock-notify golden-faillock")
			defer2 := embeddedWith("pam/auth-update-defer.sh", "_pam_pending", pamPendingList, "_pam_profiles", "golden-pwhistory")
			out, code := snippetRun(t, bin, prelude, defer1+"\n"+defer2+"\n"+defer2+"\n"+pamFinalize)
			if code != tc.wantRC || !strings.Contains(out, tc.wantOut) {
				t.Fatalf("Finalize exited %d, want %d, with %q:\n%s", code, tc.wantRC, tc.wantOut, out)
			}
			if out, code := snippetRun(t, bin, prelude, pamFinalize); code != 0 {
				t.Fatalf("the Finalize after a rollback exited %d:\n%s", code, out)
			}
			got, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if want := "--enable golden-faillock golden-faillock-notify golden-pwhistory\n"; string(got) != want {
				t.Errorf("pam-auth-update calls:\n%s\nwant one:\n%s", got, want)
			}
		})
	}
}
