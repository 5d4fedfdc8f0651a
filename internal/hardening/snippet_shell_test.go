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
