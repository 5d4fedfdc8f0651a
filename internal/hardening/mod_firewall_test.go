package hardening

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestUFWRule(t *testing.T) {
	cases := []struct {
		entry string
		out   bool
		want  string
	}{
		{"22/tcp", false, "allow 22/tcp"},
		{"53", false, "allow 53"},
		{"60000-61000/udp", false, "allow 60000:61000/udp"},
		{"10.0.0.0/8:8080/tcp", false, "allow from 10.0.0.0/8 to any port 8080 proto tcp"},
		{"10.1.2.3/8:8080/tcp", false, "allow from 10.0.0.0/8 to any port 8080 proto tcp"},
		{"192.0.2.7:443", false, "allow from 192.0.2.7 to any port 443"},
		{"192.0.2.7/32:443/tcp", false, "allow from 192.0.2.7 to any port 443 proto tcp"},
		{"2001:db8::/32:443/tcp", false, "allow from 2001:db8::/32 to any port 443 proto tcp"},
		{"443/tcp", true, "allow out 443/tcp"},
		{"10.0.0.0/8:5432/tcp", true, "allow out to 10.0.0.0/8 port 5432 proto tcp"},
	}
	for _, c := range cases {
		got, err := ufwRule(c.entry, c.out)
		if err != nil || got != c.want {
			t.Errorf("ufwRule(%q, %v) = %q, %v; want %q", c.entry, c.out, got, err, c.want)
		}
	}
}

func TestFirewallValidate(t *testing.T) {
	no := false
	cases := []struct {
		name   string
		opts   FirewallOptions
		option string
		n      int
	}{
		{"defaults", FirewallOptions{}, "", 0},
		{"disabled", FirewallOptions{Enabled: &no}, "", 0},
		{"good list", FirewallOptions{Allow: []string{"443/tcp", "10.0.0.0/8:8080/tcp", "53"}}, "", 0},
		{"port zero", FirewallOptions{Allow: []string{"0/tcp"}}, "firewall.allow", 1},
		{"port too big", FirewallOptions{Allow: []string{"65536/tcp"}}, "firewall.allow", 1},
		{"not a number", FirewallOptions{Allow: []string{"ssh"}}, "firewall.allow", 1},
		{"bad protocol", FirewallOptions{Allow: []string{"22/icmp"}}, "firewall.allow", 1},
		{"bad CIDR", FirewallOptions{Allow: []string{"10.0.0.0/33:22/tcp"}}, "firewall.allow", 1},
		{"bad address", FirewallOptions{Allow: []string{"example:22/tcp"}}, "firewall.allow", 1},
		{"range without protocol", FirewallOptions{Allow: []string{"1000-2000"}}, "firewall.allow", 1},
		{"backwards range", FirewallOptions{Allow: []string{"2000-1000/tcp"}}, "firewall.allow", 1},
		{"leading zero", FirewallOptions{Allow: []string{"022/tcp"}}, "firewall.allow", 1},
		{"outgoing policy", FirewallOptions{DefaultOutgoing: "reject"}, "firewall.default_outgoing", 1},
		{"allow_out without deny", FirewallOptions{AllowOut: []string{"443/tcp"}}, "firewall.allow_out", 1},
		{"bad allow_out", FirewallOptions{DefaultOutgoing: "deny", AllowOut: []string{"x"}}, "firewall.allow_out", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOptionErrors(t, c.opts.validate(), c.option, c.n)
		})
	}
}

func TestFirewallShellParams(t *testing.T) {
	p := (&FirewallOptions{}).shellParams()
	if p["FIREWALL_ENABLED"] != "1" || p["FIREWALL_DEFAULT_OUTGOING"] != "allow" || p["FIREWALL_ALLOW"] != "" || p["FIREWALL_ALLOW_OUT"] != "" {
		t.Errorf("defaults %v", p)
	}
	no := false
	p = (&FirewallOptions{Enabled: &no, DefaultOutgoing: "deny", Allow: []string{"443/tcp", "10.0.0.0/8:8080/tcp"}}).shellParams()
	if p["FIREWALL_ENABLED"] != "0" || p["FIREWALL_ALLOW"] != "allow 443/tcp\nallow from 10.0.0.0/8 to any port 8080 proto tcp" {
		t.Errorf("params %v", p)
	}
	if p["FIREWALL_ALLOW_OUT"] != "allow out 53\nallow out 67/udp\nallow out 80/tcp\nallow out 123/udp\nallow out 443/tcp" {
		t.Errorf("default allow_out %q", p["FIREWALL_ALLOW_OUT"])
	}
}

// The SSH port rule comes before every control that could deny, and enabling comes last
// (SEED-DEFECT 3: default deny before the SSH rule locks new connections out).
func TestFirewallOrder(t *testing.T) {
	var ids []string
	for _, c := range moduleByName(t, "firewall").Controls {
		ids = append(ids, c.ID)
	}
	pos := func(id string) int {
		for i, x := range ids {
			if x == id {
				return i
			}
		}
		t.Fatalf("%s missing", id)
		return -1
	}
	if !(pos("firewall.ssh-port") < pos("firewall.loopback") && pos("firewall.ssh-port") < pos("firewall.default-policy") &&
		pos("firewall.default-policy") < pos("firewall.enabled") && pos("firewall.sysctl-agreement") < pos("firewall.enabled") &&
		pos("firewall.enabled") == len(ids)-1) {
		t.Fatalf("order %v", ids)
	}
}

// ufwShowAdded is `ufw show added` after the SSH port, loopback and an allow list.
const ufwShowAdded = "Added user rules (see 'ufw status' for running firewall):\nufw allow 22/tcp\nufw allow in on lo\n" +
	"ufw allow out on lo\nufw deny from 127.0.0.0/8\nufw allow 53\nufw allow from 10.0.0.0/8 to any port 8080 proto tcp\n"

func TestUFWRulesAwk(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{"added": ufwShowAdded})
	file := []string{filepath.Join(dir, "added")}
	wantAwk(t, ufwRulesAwk, awkRun{env: map[string]string{"_rules": "allow in on lo\nallow out on lo\ndeny from 127.0.0.0/8"}, files: file}, 0,
		[]string{"ufw allow in on lo", "ufw allow out on lo", "ufw deny from 127.0.0.0/8"}, "missing")
	wantAwk(t, ufwRulesAwk, awkRun{env: map[string]string{"_rules": "allow 22/tcp\ndeny from ::1\n"}, files: file}, 1,
		[]string{"ufw allow 22/tcp", "missing: ufw deny from ::1"})
}

func TestUFWOpenPortsAwk(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{"added": ufwShowAdded})
	file := []string{filepath.Join(dir, "added"), "-"}
	// ss -Htuln: loopback-only listeners need no rule; 53 is allowed for both protocols.
	ss := "udp   UNCONN 0      0          127.0.0.1:323        0.0.0.0:*\n" +
		"udp   UNCONN 0      0            0.0.0.0:53         0.0.0.0:*\n" +
		"tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*\n" +
		"tcp   LISTEN 0      128             [::]:22            [::]:*\n" +
		"tcp   LISTEN 0      4096         0.0.0.0:8080       0.0.0.0:*\n" +
		"tcp   LISTEN 0      4096           [::1]:631           [::]:*\n"
	wantAwk(t, embedded("firewall/open-ports.awk"), awkRun{files: file, stdin: ss}, 0,
		[]string{"53/udp: has a rule", "22/tcp: has a rule", "8080/tcp: has a rule"}, "323", "631")
	wantAwk(t, embedded("firewall/open-ports.awk"), awkRun{files: file, stdin: ss + "tcp   LISTEN 0      511          0.0.0.0:80         0.0.0.0:*\n"}, 1,
		[]string{"80/tcp: listening without a ufw rule"})
}

// The DHCP client of every EC2 instance listens on 68/udp (DHCPv6: 546/udp) on its interface:
// ufw's own rules accept DHCP replies, so that listener needs no rule of its own. Only the DHCP
// client's listener on its client port is exempt; another process on 68/udp, or the DHCP client
// on another port, still needs a rule (ss -Htulnp names the processes).
func TestUFWOpenPortsAwkDHCPClient(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{"added": ufwShowAdded})
	file := []string{filepath.Join(dir, "added"), "-"}
	ss := "udp   UNCONN 0      0      10.0.1.5%ens5:68         0.0.0.0:*    users:((\"systemd-network\",pid=421,fd=20))\n" +
		"udp   UNCONN 0      0      0.0.0.0%ens5:68          0.0.0.0:*    users:((\"dhclient\",pid=512,fd=7))\n" +
		"udp   UNCONN 0      0      [fe80::4f:1%ens5]:546        [::]:*    users:((\"systemd-network\",pid=421,fd=22))\n" +
		"udp   UNCONN 0      0      0.0.0.0%eth0:68          0.0.0.0:*    users:((\"dhcpcd\",pid=600,fd=9),(\"dhcpcd\",pid=601,fd=9))\n" +
		"tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:((\"sshd\",pid=700,fd=3))\n"
	wantAwk(t, embedded("firewall/open-ports.awk"), awkRun{files: file, stdin: ss}, 0,
		[]string{"68/udp: the DHCP client (systemd-network)", "68/udp: the DHCP client (dhclient)", "546/udp: the DHCP client (systemd-network)",
			"68/udp: the DHCP client (dhcpcd)", "22/tcp: has a rule"}, "without a ufw rule")
	for _, other := range []string{
		"udp   UNCONN 0      0            0.0.0.0:68         0.0.0.0:*    users:((\"python3\",pid=9,fd=3))\n",
		"udp   UNCONN 0      0      10.0.1.5%ens5:5353       0.0.0.0:*    users:((\"dhclient\",pid=512,fd=8))\n",
		"tcp   LISTEN 0      16           0.0.0.0:68         0.0.0.0:*    users:((\"dhclient\",pid=512,fd=9))\n",
		"udp   UNCONN 0      0            0.0.0.0:68         0.0.0.0:*\n",
	} {
		wantAwk(t, embedded("firewall/open-ports.awk"), awkRun{files: file, stdin: ss + other}, 1, []string{"listening without a ufw rule"})
	}
}

// firewall.enabled refuses to turn ufw on unless a rule lets the build's SSH connection in: the
// first rule of `ufw show added` that matches the connection (from 198.51.100.7 to 10.0.3.15
// port 2222, arriving on eth0) must allow it.
func TestUFWSSHAdmittedAwk(t *testing.T) {
	conn := map[string]string{"port": "2222", "client": "198.51.100.7", "server": "10.0.3.15", "iface": "eth0"}
	unknown := map[string]string{"port": "2222"}
	cases := []struct {
		rules string
		vars  map[string]string
		want  bool
	}{
		{"ufw allow 2222/tcp", conn, true},
		{"ufw allow 2222", conn, true},
		{"ufw limit 2222/tcp", conn, true},
		{"ufw allow 22,2222/tcp", conn, true},
		{"ufw allow 2000:3000/tcp", conn, true},
		{"ufw allow from 198.51.100.0/24 to any port 2222 proto tcp", conn, true},
		{"ufw allow from 198.51.100.7 to any port 2222", conn, true},
		{"ufw allow in on eth0 to any port 2222", conn, true},
		{"ufw allow from 198.51.100.0/24", conn, true},
		{"ufw allow to 10.0.3.15 port 2222 proto tcp", conn, true},
		{"ufw allow 2222/tcp comment 'build ssh'", conn, true},
		{"ufw allow 2222/tcp", unknown, true},
		{"ufw allow out 2222/tcp", conn, false},
		{"ufw allow out on eth0 to any port 2222", conn, false},
		{"ufw allow in on eth9 to any port 2222", conn, false},
		{"ufw allow in on eth0 to any port 2222", unknown, false},
		{"ufw allow 2222/udp", conn, false},
		{"ufw allow 22/tcp", conn, false},
		{"ufw allow 22220/tcp", conn, false},
		{"ufw allow 12222/tcp", conn, false},
		{"ufw deny 2222/tcp", conn, false},
		{"ufw allow from 10.0.0.0/8 to any port 2222 proto tcp", conn, false},
		{"ufw allow from 10.0.0.0/8 to any port 2222 proto tcp", unknown, false},
		{"ufw allow from 198.51.100.7 port 2222", conn, false},
		{"ufw allow to 10.0.9.9 port 2222", conn, false},
		{"ufw allow in on lo", conn, false},
		{"ufw allow OpenSSH", conn, false},
		{"ufw route allow 2222/tcp", conn, false},
		{"ufw deny from 198.51.100.0/24\nufw allow 2222/tcp", conn, false},
		{"ufw deny from 127.0.0.0/8\nufw allow 2222/tcp", conn, true},
		{"ufw allow in on lo\nufw allow out 2222/tcp\nufw allow 2222/tcp", conn, true},
	}
	for _, awk := range awkImplementations(t) {
		for _, c := range cases {
			dir := writeFiles(t, t.TempDir(), map[string]string{"added": "Added user rules (see 'ufw status' for running firewall):\n" + c.rules + "\n"})
			out, code := awkRun{vars: c.vars, files: []string{filepath.Join(dir, "added")}}.run(t, awk, embedded("firewall/ssh-admitted.awk"))
			if (code == 0) != c.want {
				t.Errorf("%s: %q with %v: admitted %v (exit %d, %q), want %v", awk, c.rules, c.vars, code == 0, code, out, c.want)
			}
		}
	}
}

// The firewall module batches ufw commands through ufw's Python modules, which are not a stable
// interface: whatever goes wrong there (here, the frontend raises an error that is not ufw's),
// ufw's command line must do the work. A fake ufw command (a Python script, as ufw is) records
// its calls; fake ufw modules fail as a changed ufw might.
func TestUFWFallsBackToItsCommandLine(t *testing.T) {
	sh := requireTool(t, "sh")
	python := requireTool(t, "python3")
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	writeFiles(t, dir, map[string]string{
		"bin/ufw": "#!" + python + "\nimport sys\nwith open('" + filepath.Join(dir, "calls") + "', 'a') as f:\n    f.write(' '.join(sys.argv[1:]) + '\\n')\n" +
			"print('Status: active' if sys.argv[1:2] == ['status'] else 'ufw ' + ' '.join(sys.argv[1:]))\n",
		"py/ufw/__init__.py": "",
		"py/ufw/common.py":   "programName = 'ufw'\nclass UFWError(Exception):\n    pass\n",
		"py/ufw/util.py":     "def create_lock():\n    return None\ndef release_lock(lock):\n    pass\n",
		"py/ufw/frontend.py": "class UFWFrontend:\n    def __init__(self, dryrun):\n        raise AttributeError('this ufw has no such frontend')\n" +
			"def parse_command(argv):\n    raise AttributeError('no parser')\n",
		"work/.keep": "",
	})
	if err := os.Chmod(filepath.Join(dir, "bin", "ufw"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "G_WORK_DIR=" + work + "\nf() {\n" + ufwRun + "\n_fw_run '-:allow 2222/tcp' -- 'firewall.status:status verbose'\n}\nf\n"
	cmd := exec.Command(sh, "-c", script)
	cmd.Env = []string{"PATH=" + filepath.Join(dir, "bin") + ":" + os.Getenv("PATH"), "PYTHONPATH=" + filepath.Join(dir, "py"), "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("_fw_run: %v\n%s", err, out)
	}
	calls, _ := os.ReadFile(filepath.Join(dir, "calls"))
	if string(calls) != "allow 2222/tcp\nstatus verbose\n" {
		t.Errorf("ufw's command line was called with %q", calls)
	}
	if status, _ := os.ReadFile(filepath.Join(work, "firewall.status")); string(status) != "Status: active\n" {
		t.Errorf("firewall.status = %q", status)
	}
}
