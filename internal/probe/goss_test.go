package probe

import (
	"os"
	"strings"
	"testing"
)

func TestGossFile(t *testing.T) {
	data, err := os.ReadFile("testdata/goss.yaml")
	if err != nil {
		t.Fatal(err)
	}
	probes, err := Goss("goss.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if errs := Validate(probes); len(errs) > 0 {
		t.Fatalf("the probes of a valid goss file do not validate: %v", errs)
	}
	var ids []string
	for _, p := range probes {
		ids = append(ids, ID(p))
	}
	want := []string{`service "ssh"`, `service "chrony"`, `package "openssh-server"`, `package "telnetd"`,
		`port "tcp4:22"`, `port "tcp6:22"`, `file "/etc/ssh/sshd_config"`, `sysctl "net.ipv4.ip_forward"`, `mount "/tmp"`,
		`user "admin"`, `group "sudo"`, `process "sshd"`, `command "docker --version"`, `http "http://localhost:8080/healthz"`}
	if strings.Join(ids, "\n") != strings.Join(want, "\n") {
		t.Fatalf("probes:\n%s\nwant:\n%s", strings.Join(ids, "\n"), strings.Join(want, "\n"))
	}
	chrony := probes[1].(*Service)
	if chrony.Running != nil || !chrony.runningUnchecked || !*chrony.Enabled {
		t.Errorf("chrony: %+v", chrony)
	}
	// An enabled unit that is not running passes: the goss entry does not ask about running.
	if v := chrony.Judge(Facts{"load": "loaded", "active": "inactive", "enabled": "enabled"}); !v.Pass {
		t.Errorf("chrony verdict: %+v", v)
	}
	if p := probes[2].(*Package); p.Version != "= 1:9.2p1-2+deb12u3" || p.Installed == nil || !*p.Installed {
		t.Errorf("package: %+v", p)
	}
	if p := probes[4].(*Port); len(p.Addresses) != 1 || p.Addresses[0] != "0.0.0.0" {
		t.Errorf("port: %+v", p)
	}
	if p := probes[6].(*File); p.Mode != "0644" || p.Contents[0] != "!PermitRootLogin yes" || p.Filetype != "file" {
		t.Errorf("file: %+v", p)
	}
	if p := probes[8].(*Mount); strings.Join(p.Options, ",") != "nodev,nosuid" || p.Filesystem != "tmpfs" {
		t.Errorf("mount: %+v", p)
	}
	if p := probes[9].(*User); *p.UID != 1000 || p.Groups[0] != "sudo" || p.Shell != "/bin/bash" {
		t.Errorf("user: %+v", p)
	}
	if p := probes[12].(*Command); p.ExecTimeout != "10s" || *p.ExitStatus != 0 || p.Stdout[0] != "Docker version" {
		t.Errorf("command: %+v", p)
	}
	if p := probes[13].(*HTTP); p.RequestTimeout != "5s" || *p.Status != 200 || p.Body[0] != "ok" {
		t.Errorf("http: %+v", p)
	}
}

func TestGossErrorsNameTheResource(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"dns:\n  example.com:\n    resolvable: true\n", `g.yaml: line 1: goss resource type "dns" has no golden-validate probe (supported: command, file, group, http, kernel-param, mount, package, port, process, service, user)`},
		{"gossfile:\n  other.yaml: {}\n", `goss resource type "gossfile" has no golden-validate probe`},
		{"file:\n  /etc/passwd:\n    exists: true\n    sha256: abc\n", `g.yaml: line 2: file "/etc/passwd": line 4: attribute "sha256" is not supported by golden-validate's file probe`},
		{"user:\n  nobody:\n    uid:\n      lt: 1000\n", `g.yaml: line 2: user "nobody": uid: line 4: want a plain value, not a matcher or list`},
		{"package:\n  vim:\n    versions:\n      - 1\n      - 2\n", `package "vim": versions: lists several versions`},
		{"service:\n  ssh:\n    running: yes please\n", `service "ssh": running: line 3: "yes please" is not true or false`},
		{"command:\n  ls:\n    stdout: hello\n", `command "ls": stdout: line 3: want a list of values`},
		{"port:\n  sctp:9:\n    listening: true\n", ``}, // mapped; the probe's own validation refuses it
		{"- a\n- b\n", `a goss file is a mapping of resource types`},
		{"service: [\n", `g.yaml: yaml:`},
		{"", `g.yaml: empty goss file`},
	} {
		_, err := Goss("g.yaml", []byte(c.yaml))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.yaml, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}
