package probe

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func ptr[T any](v T) *T { return &v }

type verdictCase struct {
	name  string
	probe Probe
	facts Facts
	pass  bool
	// message must appear in the verdict's message.
	message string
}

func runVerdicts(t *testing.T, cases []verdictCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if errs := c.probe.Validate(); len(errs) > 0 {
				t.Fatalf("invalid probe: %v", errs)
			}
			v := c.probe.Judge(c.facts)
			if v.Pass != c.pass || !strings.Contains(v.Message, c.message) {
				t.Errorf("verdict %+v, want pass=%v with %q", v, c.pass, c.message)
			}
		})
	}
}

func TestServiceVerdict(t *testing.T) {
	up := Facts{"load": "loaded", "active": "active", "enabled": "enabled"}
	runVerdicts(t, []verdictCase{
		{"running", &Service{Name: "ssh"}, up, true, "active"},
		{"running and enabled", &Service{Name: "ssh", Enabled: ptr(true)}, up, true, "enabled"},
		{"static counts as enabled", &Service{Name: "x", Enabled: ptr(true)}, Facts{"load": "loaded", "active": "active", "enabled": "static"}, true, ""},
		{"inactive", &Service{Name: "ssh"}, Facts{"load": "loaded", "active": "inactive", "enabled": "enabled"}, false, "is inactive, want active"},
		{"still activating", &Service{Name: "ssh"}, Facts{"load": "loaded", "active": "activating", "enabled": "enabled"}, false, "activating"},
		{"disabled", &Service{Name: "ssh", Enabled: ptr(true)}, Facts{"load": "loaded", "active": "active", "enabled": "disabled"}, false, "is-enabled says disabled"},
		{"must not run", &Service{Name: "telnet", Running: ptr(false)}, Facts{"load": "loaded", "active": "inactive", "enabled": "disabled"}, true, ""},
		{"must not run but does", &Service{Name: "telnet", Running: ptr(false)}, up, false, "want not active"},
		{"missing unit", &Service{Name: "nonexistent"}, Facts{"load": "not-found", "active": "inactive", "enabled": ""}, false, "no unit nonexistent"},
		{"missing unit not wanted", &Service{Name: "nonexistent", Running: ptr(false)}, Facts{"load": "not-found"}, true, "no such unit"},
		{"missing unit wanted enabled", &Service{Name: "x", Running: ptr(false), Enabled: ptr(true)}, Facts{"load": "not-found"}, false, "no unit"},
	})
}

func TestPackageVerdict(t *testing.T) {
	runVerdicts(t, []verdictCase{
		{"installed", &Package{Name: "openssh-server"}, Facts{"manager": "dpkg", "versions": "1:9.2p1-2+deb12u3 "}, true, "1:9.2p1"},
		{"not installed", &Package{Name: "nginx"}, Facts{"manager": "dpkg", "versions": ""}, false, "is not installed"},
		{"absent as wanted", &Package{Name: "telnetd", Installed: ptr(false)}, Facts{"manager": "dpkg", "versions": ""}, true, "not installed"},
		{"present but unwanted", &Package{Name: "telnetd", Installed: ptr(false)}, Facts{"manager": "dpkg", "versions": "0.17-44"}, false, "want absent"},
		{"exact version", &Package{Name: "a", Version: "1.2-3"}, Facts{"manager": "dpkg", "versions": "1.2-3"}, true, ""},
		{"version too old", &Package{Name: "a", Version: ">= 1:9.3"}, Facts{"manager": "dpkg", "versions": "1:9.2p1-2"}, false, "want >= 1:9.3"},
		{"version new enough", &Package{Name: "a", Version: ">= 1:9.2"}, Facts{"manager": "dpkg", "versions": "1:9.2p1-2"}, true, ""},
		{"one of several versions", &Package{Name: "linux-image", Version: "> 6.1"}, Facts{"manager": "dpkg", "versions": "6.0.1 6.1.5"}, true, "6.1.5"},
		{"rpm epoch zero", &Package{Name: "openssh", Version: ">= 8.7"}, Facts{"manager": "rpm", "versions": "0:8.7p1-38.el9"}, true, ""},
		{"no package manager", &Package{Name: "a"}, Facts{"manager": "none"}, false, "neither dpkg nor rpm"},
	})
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.1", -1}, {"1.10", "1.9", 1}, {"1.0~rc1", "1.0", -1},
		{"1:1.0", "2.0", 1}, {"1.0-1", "1.0-2", -1}, {"1.0a", "1.0", 1}, {"1.0+b1", "1.0", 1},
		{"9.2p1-2+deb12u3", "9.2p1-2+deb12u2", 1}, {"0001", "1", 0}, {"1.0~~", "1.0~", -1},
		{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
	} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := compareVersions(c.b, c.a); got != -c.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestPortVerdict(t *testing.T) {
	// sshd on 0.0.0.0:22 and [::]:22, a resolver on 127.0.0.53:53 (udp), a connection from 22.
	sockets := strings.Join([]string{
		"tcp 00000000:0016 0A",
		"tcp6 00000000000000000000000000000000:0016 0A",
		"tcp 0200D50A:0016 01",
		"udp 3500007F:0035 07",
		"tcp6 00000000000000000000000001000000:0CEA 0A",
	}, "\n")
	f := Facts{"sockets": sockets}
	runVerdicts(t, []verdictCase{
		{"tcp 22", &Port{Port: "tcp:22"}, f, true, "0.0.0.0, ::"},
		{"bare number is tcp", &Port{Port: "22"}, f, true, ""},
		{"on 0.0.0.0", &Port{Port: "tcp:22", Addresses: []string{"0.0.0.0"}}, f, true, ""},
		{"not on localhost only", &Port{Port: "tcp:22", Addresses: []string{"127.0.0.1"}}, f, false, "not listening on 127.0.0.1"},
		{"tcp4 only", &Port{Port: "tcp4:22"}, f, true, "0.0.0.0"},
		{"tcp6 on ::1", &Port{Port: "tcp6:3306", Addresses: []string{"::1"}}, f, true, "::1"},
		{"udp resolver", &Port{Port: "udp:53", Addresses: []string{"127.0.0.53"}}, f, true, ""},
		{"tcp 53 not listening", &Port{Port: "tcp:53"}, f, false, "nothing listens on tcp port 53"},
		{"telnet must be closed", &Port{Port: "tcp:23", Listening: ptr(false)}, Facts{"sockets": ""}, true, "nothing listening"},
		{"established is not listening", &Port{Port: "tcp:22", Listening: ptr(false)}, Facts{"sockets": "tcp 0200D50A:0016 01"}, true, ""},
		{"22 must be closed but is open", &Port{Port: "tcp:22", Listening: ptr(false)}, f, false, "want nothing listening"},
	})
}

func TestFileVerdict(t *testing.T) {
	conf := Facts{"stat": "regular file|600|root|root|120", "content": "PermitRootLogin no\nPasswordAuthentication no\n"}
	runVerdicts(t, []verdictCase{
		{"mode owner group", &File{Path: "/etc/x", Mode: "0600", Owner: "root", Group: "root", Filetype: "file"}, conf, true, "mode 0600"},
		{"mode without leading zero", &File{Path: "/etc/x", Mode: "600"}, conf, true, ""},
		{"wrong mode", &File{Path: "/etc/x", Mode: "0640"}, conf, false, "mode 0600, want 0640"},
		{"wrong owner and type", &File{Path: "/etc/x", Owner: "admin", Filetype: "directory"}, conf, false, "is a file, want directory; owner root, want admin"},
		{"contents", &File{Path: "/etc/x", Contents: []string{"PermitRootLogin no", "/^PasswordAuthentication no$/", "!PermitEmptyPasswords yes"}}, conf, true, ""},
		{"contents missing", &File{Path: "/etc/x", Contents: []string{"MaxAuthTries 4", "!/^Password/"}}, conf, false, `"MaxAuthTries 4", "!/^Password/"`},
		{"missing file", &File{Path: "/etc/x"}, Facts{}, false, "does not exist"},
		{"absent as wanted", &File{Path: "/root/.bash_history", Exists: ptr(false)}, Facts{}, true, "absent"},
		{"present but unwanted", &File{Path: "/root/.bash_history", Exists: ptr(false)}, conf, false, "want absent"},
		{"contents of a directory", &File{Path: "/etc", Contents: []string{"x"}}, Facts{"stat": "directory|755|root|root|4096"}, false, "not a regular file"},
		{"sticky dir", &File{Path: "/tmp", Mode: "1777", Filetype: "directory"}, Facts{"stat": "directory|1777|root|root|4096"}, true, ""},
		{"symlink", &File{Path: "/etc/mtab", Filetype: "symlink"}, Facts{"stat": "symbolic link|777|root|root|19"}, true, ""},
		{"too large to match", &File{Path: "/x", Contents: []string{"a"}}, Facts{"stat": "regular file|644|root|root|9", "content": strings.Repeat("a", maxContent+1)}, false, "larger than 1 MiB"},
	})
}

func TestSysctlVerdict(t *testing.T) {
	runVerdicts(t, []verdictCase{
		{"equal", &Sysctl{Name: "net.ipv4.ip_forward", Value: "0"}, Facts{"value": "0 "}, true, "= 0"},
		{"tabs and spaces", &Sysctl{Name: "net.ipv4.tcp_rmem", Value: "4096 131072 6291456"}, Facts{"value": "4096\t131072\t6291456 "}, true, ""},
		{"different", &Sysctl{Name: "net.ipv4.ip_forward", Value: "0"}, Facts{"value": "1"}, false, "is 1, want 0"},
		{"missing", &Sysctl{Name: "net.ipv4.nope", Value: "0"}, Facts{}, false, "no such kernel parameter"},
	})
}

func TestMountVerdict(t *testing.T) {
	tmp := Facts{"mount": "tmpfs tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k"}
	runVerdicts(t, []verdictCase{
		{"options", &Mount{Path: "/tmp", Options: []string{"nodev", "nosuid", "noexec"}, Filesystem: "tmpfs"}, tmp, true, "tmpfs on /tmp"},
		{"option with value", &Mount{Path: "/tmp", Options: []string{"size=1024k"}}, tmp, true, ""},
		{"missing option", &Mount{Path: "/tmp", Options: []string{"nodev", "ro"}}, tmp, false, "lacks ro"},
		{"wrong type and source", &Mount{Path: "/tmp", Filesystem: "ext4", Source: "/dev/sda1"}, tmp, false, "type tmpfs, want ext4; source tmpfs, want /dev/sda1"},
		{"not mounted", &Mount{Path: "/var/tmp"}, Facts{"mount": ""}, false, "is not a mount point"},
		{"not mounted as wanted", &Mount{Path: "/mnt", Exists: ptr(false)}, Facts{"mount": ""}, true, ""},
	})
}

func TestUserGroupProcessVerdicts(t *testing.T) {
	admin := Facts{"passwd": "admin:x:1000:1000:Debian:/home/admin:/bin/bash", "groups": "admin adm sudo"}
	runVerdicts(t, []verdictCase{
		{"user", &User{Name: "admin", UID: ptr(1000), Groups: []string{"sudo"}, Home: "/home/admin", Shell: "/bin/bash"}, admin, true, "uid 1000"},
		{"user wrong", &User{Name: "admin", UID: ptr(0), Groups: []string{"docker", "sudo"}, Shell: "/bin/sh"}, admin, false, "uid 1000, want 0; shell /bin/bash, want /bin/sh; not in docker"},
		{"no user", &User{Name: "ghost"}, Facts{}, false, "no such user"},
		{"user absent", &User{Name: "games", Exists: ptr(false)}, Facts{}, true, ""},
		{"group", &Group{Name: "sudo", GID: ptr(27)}, Facts{"group": "sudo:x:27:admin"}, true, "gid 27"},
		{"group wrong gid", &Group{Name: "sudo", GID: ptr(28)}, Facts{"group": "sudo:x:27:admin"}, false, "gid 27, want 28"},
		{"no group", &Group{Name: "docker"}, Facts{}, false, "no such group"},
		{"process", &Process{Name: "sshd"}, Facts{"count": "2"}, true, "2 processes"},
		{"no process", &Process{Name: "fail2ban-server"}, Facts{"count": "0"}, false, "no such process"},
		{"process must not run", &Process{Name: "telnetd", Running: ptr(false)}, Facts{"count": "0"}, true, ""},
		{"process runs but must not", &Process{Name: "telnetd", Running: ptr(false)}, Facts{"count": "1"}, false, "want none"},
	})
	if got := (&Process{Name: "systemd-journald-extra"}).comm(); got != "systemd-journal" {
		t.Errorf("comm %q", got)
	}
}

func TestCommandHTTPVerdicts(t *testing.T) {
	ok := Facts{"exit": "0", "stdout": "Docker version 24.0.7, build afdd53b\n", "stderr": ""}
	runVerdicts(t, []verdictCase{
		{"exit 0", &Command{Command: "docker --version"}, ok, true, "exit status 0"},
		{"stdout patterns", &Command{Command: "docker --version", Stdout: []string{"Docker", `/version 2[0-9]\./`, "!error"}}, ok, true, ""},
		{"stdout mismatch", &Command{Command: "docker --version", Stdout: []string{"Podman"}}, ok, false, `stdout does not satisfy "Podman"`},
		{"exit status", &Command{Command: "false"}, Facts{"exit": "1"}, false, "exit status 1, want 0"},
		{"wanted exit status", &Command{Command: "false", ExitStatus: ptr(1)}, Facts{"exit": "1"}, true, ""},
		{"not found", &Command{Command: "nope"}, Facts{"exit": "127", "stderr": "sh: 1: nope: not found"}, false, "command not found"},
		{"timed out", &Command{Command: "sleep 99", ExecTimeout: "2s"}, Facts{"exit": "124"}, false, "did not finish within 2s"},
		{"stderr", &Command{Command: "x", Stderr: []string{"!/[Ee]rror/"}}, Facts{"exit": "0", "stderr": "Error: y"}, false, "stderr does not satisfy"},
		{"http ok", &HTTP{URL: "http://localhost/", Body: []string{"ok"}}, Facts{"status": "200", "body": "ok\n"}, true, "status 200"},
		{"http status", &HTTP{URL: "http://localhost/"}, Facts{"status": "503", "body": ""}, false, "status 503, want 200"},
		{"http wanted status", &HTTP{URL: "http://localhost/", Status: ptr(401)}, Facts{"status": "401"}, true, ""},
		{"http body", &HTTP{URL: "http://localhost/", Body: []string{"/ready: *true/"}}, Facts{"status": "200", "body": "ready: false"}, false, "body does not satisfy"},
		{"http no answer", &HTTP{URL: "http://localhost:9/"}, Facts{"status": "error: curl: (7) Failed to connect"}, false, "no answer: curl: (7)"},
	})
}

func TestIMDSv2Verdict(t *testing.T) {
	runVerdicts(t, []verdictCase{
		{"v2 required", &IMDSv2{}, Facts{"tokenless": "401", "token": "200"}, true, "refused with status 401"},
		{"v1 allowed", &IMDSv2{}, Facts{"tokenless": "200", "token": "200"}, false, "IMDSv1 is allowed"},
		{"endpoint off", &IMDSv2{}, Facts{"tokenless": "error: timed out", "token": "error: timed out"}, true, "does not answer at all"},
		{"odd", &IMDSv2{}, Facts{"tokenless": "error: reset", "token": "200"}, false, "token-less request got no answer"},
		{"server error", &IMDSv2{}, Facts{"tokenless": "500", "token": "200"}, false, "unexpected answer"},
	})
}

func TestBuildLeftoversVerdict(t *testing.T) {
	launchKey := newAuthorizedKey(t, "golden-validate")
	buildKey := newAuthorizedKey(t, "packer_6543")
	clean := Facts{"keys": "/home/admin/.ssh/authorized_keys\t" + launchKey + "\n", "history": "", "temp": "", "reports": ""}
	runVerdicts(t, []verdictCase{
		{"clean", &BuildLeftovers{AllowedKeys: []string{launchKey}}, clean, true, "1 authorized keys"},
		{"key with options", &BuildLeftovers{AllowedKeys: []string{launchKey}}, Facts{"keys": `/root/.ssh/authorized_keys	no-port-forwarding,command="echo no" ` + launchKey}, true, ""},
		{"build key left", &BuildLeftovers{AllowedKeys: []string{launchKey}},
			Facts{"keys": clean["keys"] + "/home/admin/.ssh/authorized_keys\t" + buildKey + "\n"}, false, "authorized keys not launched with: /home/admin/.ssh/authorized_keys (SHA256:"},
		{"history", &BuildLeftovers{AllowedKeys: []string{launchKey}}, Facts{"keys": clean["keys"], "history": "/root/.bash_history\n"}, false, "shell history: /root/.bash_history"},
		{"temp files", &BuildLeftovers{}, Facts{"temp": "/tmp/packer-shell123\n/tmp/script_4242.sh\n"}, false, "build temporary files: /tmp/packer-shell123, /tmp/script_4242.sh"},
		{"readable report", &BuildLeftovers{}, Facts{"reports": "/var/log/golden/harden-report.json\n"}, false, "readable by every user: /var/log/golden/harden-report.json"},
	})
	if errs := (&BuildLeftovers{AllowedKeys: []string{"not a key"}}).Validate(); len(errs) != 1 {
		t.Errorf("a bad allowed key: %v", errs)
	}
}

func newAuthorizedKey(t *testing.T, comment string) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + " " + comment
}

func TestPatterns(t *testing.T) {
	text := "alpha beta\n!bang\ngamma 42\n"
	for _, c := range []struct {
		patterns []string
		bad      []string
	}{
		{[]string{"alpha", "/^gamma [0-9]+$/", "!delta", "!/^beta/", `\!bang`}, nil},
		{[]string{"delta", "!alpha", "/^beta/", "!/[0-9]{2}/"}, []string{"delta", "!alpha", "/^beta/", "!/[0-9]{2}/"}},
	} {
		got := unmatched(c.patterns, text)
		if strings.Join(got, "|") != strings.Join(c.bad, "|") {
			t.Errorf("unmatched(%q) = %q, want %q", c.patterns, got, c.bad)
		}
	}
	for _, bad := range []string{"/(/", "", "!"} {
		if _, err := parsePattern(bad); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestValidateNamesAttributes(t *testing.T) {
	probes := []Probe{
		&Service{},
		&Port{Port: "sctp:22"},
		&Port{Port: "tcp:99999"},
		&File{Path: "etc/x", Mode: "rwx", Filetype: "fifo", Contents: []string{"/[/"}},
		&File{Path: "/x", Exists: ptr(false), Mode: "0600"},
		&Sysctl{Name: "net ipv4"},
		&Command{Command: " ", ExitStatus: ptr(300), ExecTimeout: "soon"},
		&HTTP{URL: "ftp://x/", Status: ptr(42)},
		&Package{Name: "a", Version: ">= ", Installed: ptr(false)},
		&Service{Name: "ssh", Retry: Retry{Timeout: "forever"}},
		&Service{Name: "ssh"}, &Service{Name: "ssh"},
	}
	got := Validate(probes)
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`service "": name: required`,
		`port "sctp:22": port: "sctp:22": protocol must be`,
		`port "tcp:99999": port: "tcp:99999": the port must be a number from 1 to 65535`,
		`file "etc/x": path: "etc/x" is not absolute`,
		`file "etc/x": filetype: must be file, directory or symlink, not "fifo"`,
		`file "etc/x": mode: "rwx" is not an octal mode`,
		`file "etc/x": contents: "/[/" is not a valid regular expression`,
		`file "/x": exists: false leaves nothing else to check`,
		`sysctl "net ipv4": name: "net ipv4" is not a kernel parameter name`,
		`sysctl "net ipv4": value: required`,
		`command " ": command: required`,
		`command " ": exit_status: must be from 0 to 255, not 300`,
		`command " ": exec_timeout: "soon" is not a duration`,
		`http "ftp://x/": url: "ftp://x/" is not an http or https URL`,
		`http "ftp://x/": status: 42 is not an HTTP status code`,
		`package "a": version: ">=": want an operator and one version`,
		`package "a": version: set for a package that must not be installed`,
		`service "ssh": timeout: "forever" is not a duration`,
		`service "ssh": appears twice`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing error %q in:\n%s", want, all)
		}
	}
}
