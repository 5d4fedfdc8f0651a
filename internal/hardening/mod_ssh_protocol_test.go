package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ssh.protocol on a copy of a stock sshd_config: the check fails while the main file does not
// state Protocol 2 (or states another value), the fix states it in the global section before the
// first Match block, and the check passes then; the file is left as it was when it already says so.
func TestSSHProtocolCheckFixRecheck(t *testing.T) {
	ctl := controlByID(t, "ssh", "ssh.protocol")
	const stock = "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n" +
		"Subsystem sftp /usr/lib/openssh/sftp-server\nMatch User backup\n\tProtocol 1\n"
	for _, tc := range []struct {
		name, config, want string
		fixes              bool
	}{
		{"absent", stock, "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n" +
			"Subsystem sftp /usr/lib/openssh/sftp-server\nProtocol 2\nMatch User backup\n\tProtocol 1\n", true},
		{"another value", "Protocol 2,1\n" + stock, "Protocol 2\n" + stock, true},
		{"stated", "Protocol 2\n" + stock, "Protocol 2\n" + stock, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := snippetBin(t, []string{"awk", "cat", "cmp"},
				map[string]string{"ssh": "echo 'OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024' >&2\n"})
			config := filepath.Join(dir, "sshd_config")
			writeFile(t, config, tc.config, 0o600)
			// The fix stages its edit (g_stage); here the pending copy is installed at once, as the
			// driver does before the module's Finalize.
			prelude := "g_say() { printf '%s\\n' \"$*\"; }\n" +
				"g_stage() { _g_sf=$1; _g_sn=$G_WORK_DIR/staged; }\n" +
				"g_stage_done() { cmp -s \"$_g_sn\" \"$_g_sf\" || cat \"$_g_sn\" >\"$1\"; }\nG_WORK_DIR=" + dir
			run := func(body string) (string, int) {
				return snippetRun(t, bin, prelude, strings.ReplaceAll(body, sshdConfig, config))
			}
			out, code := run(ctl.Check)
			if failed := code == 1; failed != tc.fixes || (code != 0 && code != 1) {
				t.Fatalf("check: exit %d, want a failure: %v\n%s", code, tc.fixes, out)
			}
			if !strings.Contains(out, "OpenSSH_9.2p1") {
				t.Errorf("check: the evidence does not name the sshd:\n%s", out)
			}
			if tc.fixes {
				if out, code := run(ctl.Fix); code != 0 {
					t.Fatalf("fix: exit %d\n%s", code, out)
				}
				if out, code := run(ctl.Check); code != 0 {
					t.Fatalf("check after the fix: exit %d\n%s", code, out)
				}
			}
			got, err := os.ReadFile(config)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("sshd_config:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
