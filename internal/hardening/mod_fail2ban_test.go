package hardening

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestFail2banValidate(t *testing.T) {
	cases := []struct {
		name   string
		opts   Fail2banOptions
		option string
		n      int
	}{
		{"defaults", Fail2banOptions{}, "", 0},
		{"custom", Fail2banOptions{Bantime: "24h", Findtime: "15m", Maxretry: 5, Ignoreip: []string{"10.0.0.0/8", "192.0.2.1"}}, "", 0},
		{"bantime not a duration", Fail2banOptions{Bantime: "1 day"}, "fail2ban.bantime", 1},
		{"bantime below a second", Fail2banOptions{Bantime: "500ms"}, "fail2ban.bantime", 1},
		{"negative findtime", Fail2banOptions{Findtime: "-10m"}, "fail2ban.findtime", 1},
		{"maxretry too big", Fail2banOptions{Maxretry: 1000}, "fail2ban.maxretry", 1},
		{"negative maxretry", Fail2banOptions{Maxretry: -1}, "fail2ban.maxretry", 1},
		{"bad ignoreip", Fail2banOptions{Ignoreip: []string{"10.0.0.0/40", "nope"}}, "fail2ban.ignoreip", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOptionErrors(t, c.opts.validate(), c.option, c.n)
		})
	}
}

func TestFail2banShellParams(t *testing.T) {
	p := (&Fail2banOptions{}).shellParams()
	if p["FAIL2BAN_BANTIME"] != "3600" || p["FAIL2BAN_FINDTIME"] != "600" || p["FAIL2BAN_MAXRETRY"] != "3" || p["FAIL2BAN_IGNOREIP"] != "127.0.0.1/8 ::1" {
		t.Errorf("defaults %v", p)
	}
	p = (&Fail2banOptions{Bantime: "1h30m", Ignoreip: []string{"10.0.0.0/8"}}).shellParams()
	if p["FAIL2BAN_BANTIME"] != "5400" || p["FAIL2BAN_IGNOREIP"] != "127.0.0.1/8 ::1 10.0.0.0/8" {
		t.Errorf("params %v", p)
	}
}

// fail2banSession is what `fail2ban-client -i` prints for the sshd-jail check's questions (recorded from fail2ban
// 1.0.2 on Debian 12), with the jail's status and its three values.
func fail2banSession(status, maxretry, findtime, bantime string) string {
	return "Fail2Ban v1.0.2 reads log file that contains password failure report\n" +
		"and bans the corresponding IP addresses using firewall rules.\n\n" +
		"fail2ban> " + status + "\nfail2ban> " + maxretry + "\nfail2ban> " + findtime + "\nfail2ban> " + bantime + "\nfail2ban> "
}

const (
	fail2banJournalStatus = "Status for the jail: sshd\n|- Filter\n|  |- Currently failed:\t0\n|  |- Total failed:\t0\n" +
		"|  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service + _COMM=sshd\n`- Actions\n   |- Currently banned:\t0\n" +
		"   |- Total banned:\t0\n   `- Banned IP list:\t"
	fail2banFileStatus = "Status for the jail: sshd\n|- Filter\n|  |- Currently failed:\t0\n|  |- Total failed:\t0\n" +
		"|  `- File list:\t/var/log/auth.log\n`- Actions\n   |- Currently banned:\t0\n   |- Total banned:\t0\n   `- Banned IP list:\t"
)

func TestFail2banJailAwk(t *testing.T) {
	vars := map[string]string{"maxretry": "3", "findtime": "600", "bantime": "3600"}
	cases := []struct {
		name    string
		session string
		code    int
		lines   []string
	}{
		{"running as configured", fail2banSession(fail2banJournalStatus, "3", "600", "3600"), 0,
			[]string{"the sshd jail reads the journal: _SYSTEMD_UNIT=sshd.service + _COMM=sshd",
				"jail sshd maxretry = 3", "jail sshd findtime = 600", "jail sshd bantime = 3600"}},
		{"the packaged jail on the log file", fail2banSession(fail2banFileStatus, "5", "600", "600"), 1,
			[]string{"the sshd jail does not read the systemd journal", "jail sshd maxretry = 5", "jail sshd bantime = 600"}},
		{"one value differs", fail2banSession(fail2banJournalStatus, "3", "600", "600"), 1,
			[]string{"jail sshd bantime = 600"}},
		{"no such jail", fail2banSession("Sorry but the jail 'sshd' does not exist", "Sorry but the jail 'sshd' does not exist", "", ""), 1,
			[]string{"the sshd jail is not running"}},
		{"no server: the client prints only its banner and prompts", "Fail2Ban v1.0.2 reads log file\n\nfail2ban> fail2ban> fail2ban> ", 1,
			[]string{"the sshd jail is not running"}},
		{"no client output at all", "", 1, []string{"the sshd jail is not running"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantAwk(t, fail2banJailAwk, awkRun{vars: vars, stdin: c.session}, c.code, c.lines)
		})
	}
	// The mark for Finalize: only a jail that reads the journal leaves it.
	for _, c := range cases[:2] {
		mark := filepath.Join(t.TempDir(), "journal")
		v := map[string]string{"journal": mark}
		for k, x := range vars {
			v[k] = x
		}
		awkRun{vars: v, stdin: c.session}.run(t, awkImplementations(t)[0], fail2banJailAwk)
		if _, err := os.Stat(mark); (err == nil) != (c.code == 0) {
			t.Errorf("%s: mark exists %v", c.name, err == nil)
		}
	}
}

// The fail2ban module's Finalize restarts the service and waits for the sshd jail (15 s at most, no
// client before the server's socket or 2 s), giving up when the service stops; the sshd-jail check
// starts no client when no server runs.
func TestFail2banFinalizeAndCheck(t *testing.T) {
	finalize := moduleByName(t, "fail2ban").Finalize
	check := controlByID(t, "fail2ban", "fail2ban.sshd-jail").Check
	for _, tc := range []struct {
		name           string
		active         bool
		upAt           int // the client call from which the server answers with the jail
		finalize       bool
		finalizeCode   int
		finalizeOutput []string
		checkCode      int
		checkOutput    []string
		clientCalls    int
	}{
		{"the jail starts at the third question", true, 3, true, 0,
			[]string{"fail2ban restarted", "fail2ban: jail sshd running"},
			0, []string{"the sshd jail reads the journal", "jail sshd bantime = 3600"}, 4},
		{"the server stops", false, 99, true, 1,
			[]string{"the sshd jail did not start", "fail2ban[1]: ERROR"},
			1, []string{"fail2ban is not running: the sshd jail is not running"}, 1},
		{"the server runs without the jail", true, 1000, true, 1,
			[]string{"the sshd jail did not start"},
			1, []string{"the sshd jail is not running"}, 261},
		{"the check alone on a running server", true, 1, false, 0, nil,
			0, []string{"the sshd jail reads the journal"}, 1},
		{"the check alone with no server", false, 1, false, 0, nil,
			1, []string{"fail2ban is not running"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.active {
				writeFile(t, filepath.Join(dir, "active"), "", 0o644)
			}
			writeFile(t, filepath.Join(dir, "session"), fail2banSession(fail2banJournalStatus, "3", "600", "3600"), 0o644)
			local := filepath.Join(dir, "jail.local")
			writeFile(t, local, "# golden-harden: the sshd jail in force\n", 0o644)
			// The client stub answers like a server once called upAt times: the interactive
			// session, or the status alone in command mode.
			bin := snippetBin(t, []string{"awk", "cat", "grep", "head", "sed"}, map[string]string{
				"systemctl":  "case $1 in is-active) [ -f " + dir + "/active ];; esac\n",
				"sleep":      "exit 0\n",
				"journalctl": "echo 'fail2ban[1]: ERROR Failed during configuration'\n",
				"fail2ban-client": "[ \"$1\" = -t ] && exit 0\nn=$(cat " + dir + "/n 2>/dev/null); n=$((${n:-0} + 1)); echo $n >" + dir + "/n\n" +
					"if [ $n -lt " + strconv.Itoa(tc.upAt) + " ]; then echo 'Failed to access socket path' >&2; exit 255; fi\n" +
					"if [ \"$1\" = -i ]; then cat >/dev/null; cat " + dir + "/session; else sed -n '/^fail2ban> Status/,/^fail2ban> [0-9]/p' " + dir + "/session; fi\n",
			})
			prelude := "g_say() { printf '%s\\n' \"$*\"; }\ng_cmd() { command -v \"$1\" >/dev/null; }\n" +
				"g_unit_enabled() { return 0; }\ng_unit_enable() { return 0; }\ng_unit_active() { systemctl is-active -q -- \"$1\"; }\n" +
				"g_file_is() { return 0; }\nG_WORK_DIR=" + dir + "\nG_SSH_PORT=22\n" +
				"FAIL2BAN_MAXRETRY=3\nFAIL2BAN_FINDTIME=600\nFAIL2BAN_BANTIME=3600\nFAIL2BAN_IGNOREIP='127.0.0.1/8 ::1'"
			if tc.finalize {
				out, code := snippetRun(t, bin, prelude, finalize)
				if code != tc.finalizeCode {
					t.Fatalf("finalize: exit %d, want %d\n%s", code, tc.finalizeCode, out)
				}
				wantLines(t, "finalize", out, tc.finalizeOutput)
			}
			out, code := snippetRun(t, bin, prelude, strings.ReplaceAll(check, fail2banLocal, local))
			if code != tc.checkCode {
				t.Fatalf("check: exit %d, want %d\n%s", code, tc.checkCode, out)
			}
			wantLines(t, "check", out, tc.checkOutput)
			calls, _ := os.ReadFile(filepath.Join(dir, "n"))
			if got := strings.TrimSpace(string(calls)); got != strconv.Itoa(tc.clientCalls) && !(got == "" && tc.clientCalls == 0) {
				t.Errorf("fail2ban-client ran %s times, want %d", got, tc.clientCalls)
			}
		})
	}
}

func wantLines(t *testing.T, what, out string, wants []string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s output lacks %q:\n%s", what, w, out)
		}
	}
}
