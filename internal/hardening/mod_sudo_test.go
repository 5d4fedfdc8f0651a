package hardening

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sudo.logfile on sudo-rs (Ubuntu 26.04's sudo): not applicable, since sudo-rs has no logfile
// setting and its visudo rejects a sudoers file that sets one; with the original sudo the check
// reads the setting as before.
func TestSudoLogfileOnSudoRs(t *testing.T) {
	sh := requireTool(t, "dash")
	requireTool(t, "mawk")
	var check string
	for _, c := range moduleByName(t, "sudo").Controls {
		if c.ID == "sudo.logfile" {
			check = c.Check
		}
	}
	for _, tc := range []struct {
		name, version string
		code          int
		says          string
	}{
		{"sudo-rs", "visudo-rs 0.2.13", 2, "not applicable: sudo is sudo-rs (visudo-rs 0.2.13)"},
		{"sudo", "visudo version 1.9.17p2", 1, "effective Defaults logfile: unset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := t.TempDir()
			writeFile(t, filepath.Join(bin, "visudo"), "#!/bin/sh\necho '"+tc.version+"'\n", 0o755)
			for _, tool := range []string{"awk", "head", "tail"} {
				path, err := exec.LookPath(tool)
				if err != nil {
					t.Skipf("%s not found", tool)
				}
				if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
					t.Fatal(err)
				}
			}
			script := "g_say() { printf '%s\\n' \"$*\"; }\nSUDO_LOGFILE=/var/log/sudo.log\ncheck() {\n" + check + "\n}\ncheck\n"
			cmd := exec.Command(sh, "-c", script)
			cmd.Env = []string{"PATH=" + bin}
			out, err := cmd.CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || !strings.Contains(string(out), tc.says) {
				t.Errorf("exit %d, want %d; output:\n%s\nwant a line with %q", code, tc.code, out, tc.says)
			}
		})
	}
}
