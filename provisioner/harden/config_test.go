package harden

import (
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening/hardenrun"
)

func decodeConfig(t *testing.T, raw map[string]interface{}) (*Config, error) {
	t.Helper()
	var p Provisioner
	err := p.Prepare(raw)
	return &p.config, err
}

func TestPrepareDefaults(t *testing.T) {
	c, err := decodeConfig(t, map[string]interface{}{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != "cis-level1-server" || c.Mode != "enforce" || c.OnFailure != "fail" || c.threshold != 100 ||
		c.RemoteDir != "/tmp" || c.RemoteReportPath != "/var/log/golden/harden-report.json" || c.remoteReportSet {
		t.Errorf("defaults: %+v", c)
	}
	audit, err := decodeConfig(t, map[string]interface{}{"mode": "audit", "remote_dir": "/var/tmp/"})
	if err != nil {
		t.Fatal(err)
	}
	if audit.RemoteReportPath != "/var/tmp/golden-harden-report.json" {
		t.Errorf("audit mode must keep its report in remote_dir, got %s", audit.RemoteReportPath)
	}
}

func TestPrepareDecodesModuleBlocksAndWaivers(t *testing.T) {
	c, err := decodeConfig(t, map[string]interface{}{
		"profile":       "baseline",
		"skip":          []string{"auditd", "ssh.max-auth-tries"},
		"only_controls": []string{"ssh", "firewall", "auditd.installed"},
		"fail_below":    90,
		"on_failure":    "warn",
		"ssh":           map[string]interface{}{"max_auth_tries": 3, "allow_users": []string{"ops"}},
		"firewall":      map[string]interface{}{"allow": []string{"443/tcp"}},
		"waiver": []map[string]interface{}{
			{"control": "ssh.permit-root-login", "justification": "break-glass access", "expires": "2027-01-31"},
			{"control": "firewall.enabled", "justification": "managed by the platform"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.SSH.MaxAuthTries != 3 || len(c.SSH.AllowUsers) != 1 || len(c.Firewall.Allow) != 1 {
		t.Errorf("module blocks not decoded: ssh %+v firewall %+v", c.SSH, c.Firewall)
	}
	if c.threshold != 90 || c.OnFailure != "warn" {
		t.Errorf("threshold %v on_failure %s", c.threshold, c.OnFailure)
	}
	if len(c.waivers) != 2 || !c.waivers[0].Expires.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) || !c.waivers[1].Expires.IsZero() {
		t.Errorf("waivers %+v", c.waivers)
	}
}

func TestPrepareCollectsEveryError(t *testing.T) {
	_, err := decodeConfig(t, map[string]interface{}{
		"profile":            "cis-level3",
		"mode":               "fix",
		"skip":               []string{"ssh.permit-root-logn"},
		"only_controls":      []string{"sshh"},
		"include":            []string{"auditdd"},
		"fail_below":         101,
		"on_failure":         "ignore",
		"remote_dir":         "tmp",
		"remote_report_path": "report.json",
		"ssh_port":           70000,
		"build_user":         "Bad User",
		"ssh":                map[string]interface{}{"max_auth_tries": 99},
		"firewall":           map[string]interface{}{"allow": []string{"70000/tcp", "10.0.0.0/33:22/tcp", "443/icmp"}},
		"fail2ban":           map[string]interface{}{"ignoreip": []string{"10.0.0.300/8"}},
		"sysctl":             map[string]interface{}{"overrides": map[string]string{"net.ipv4..ip_forward": "0", "vm.swappiness": "10"}},
		"waiver": []map[string]interface{}{
			{"control": "ssh.nope", "justification": ""},
			{"control": "ssh.permit-root-login", "justification": "x", "expires": "31/01/2027"},
			{"control": "ssh.permit-root-login", "justification": "again"},
		},
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		`profile: unknown profile "cis-level3"`,
		`mode: must be enforce or audit, not "fix"`,
		`skip: unknown control id or module "ssh.permit-root-logn"; did you mean "ssh.permit-root-login"?`,
		`only_controls: unknown control id or module "sshh"; did you mean "ssh"?`,
		`include: unknown control id or module "auditdd"; did you mean "auditd"?`,
		`ssh.max_auth_tries`,
		`firewall.allow: "70000/tcp": port "70000" must be a number from 1 to 65535`,
		`firewall.allow: "10.0.0.0/33:22/tcp": "10.0.0.0/33" is not an IP network (CIDR) or address`,
		`firewall.allow: "443/icmp": protocol "icmp" must be tcp or udp`,
		`fail2ban.ignoreip: "10.0.0.300/8" is not an IP address or network (CIDR)`,
		`sysctl.overrides: "net.ipv4..ip_forward" is not a sysctl name`,
		`sysctl.overrides: "vm.swappiness": only kernel.*, fs.* and net.* parameters can be set here`,
		`waiver "ssh.nope": control: unknown control id "ssh.nope"`,
		`waiver "ssh.nope": justification is required`,
		`waiver "ssh.permit-root-login": expires: "31/01/2027" is not a date like 2027-01-31`,
		`waiver "ssh.permit-root-login": a second waiver for the same control`,
		`fail_below: must be between 0 and 100, not 101`,
		`on_failure: must be fail or warn, not "ignore"`,
		`remote_dir: must be an absolute path, not "tmp"`,
		`remote_report_path: must be an absolute file path, not "report.json"`,
		`ssh_port: must be between 1 and 65535, not 70000`,
		`build_user: "Bad User" is not a valid user name`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
}

func TestPrepareRejectsAnEmptySelection(t *testing.T) {
	_, err := decodeConfig(t, map[string]interface{}{"only_controls": []string{"ssh"}, "skip": []string{"ssh"}})
	if err == nil || !strings.Contains(err.Error(), "select no control") {
		t.Errorf("err = %v", err)
	}
}

func TestSSHPort(t *testing.T) {
	cases := []struct {
		configured int
		seen       int // the port in the target's SSH_CONNECTION
		data       map[string]interface{}
		want       int
	}{
		{0, 0, map[string]interface{}{"Port": 2222}, 2222},
		{0, 0, map[string]interface{}{"Port": int64(2200)}, 2200},
		{0, 0, map[string]interface{}{"Port": float64(2201)}, 2201},
		{0, 0, map[string]interface{}{"Port": "2202"}, 2202},
		{0, 0, map[string]interface{}{}, 22},
		{2022, 0, map[string]interface{}{"Port": 2222}, 2022},
		// Behind a port forward the communicator's port is not the target's.
		{0, 22, map[string]interface{}{"Port": 41353}, 22},
		{0, 2222, map[string]interface{}{}, 2222},
		{2022, 22, map[string]interface{}{"Port": 41353}, 2022},
	}
	for _, tc := range cases {
		target := hardenrun.Target{SSHPort: tc.seen}
		if got := sshPort(tc.configured, target, tc.data); got != tc.want {
			t.Errorf("sshPort(%d, sshd sees %d, %v) = %d, want %d", tc.configured, tc.seen, tc.data, got, tc.want)
		}
	}
}

func TestSourceAMIFromGeneratedData(t *testing.T) {
	cases := []struct {
		data map[string]interface{}
		want string
	}{
		{map[string]interface{}{"SourceAMI": "ami-0123456789abcdef0"}, "ami-0123456789abcdef0"},
		{map[string]interface{}{"SourceAMI": "ERR_SOURCE_AMI_NOT_SET"}, ""},
		{map[string]interface{}{"SourceAMI": 42}, ""},
		{map[string]interface{}{}, ""},
	}
	for _, c := range cases {
		if got := sourceAMI(c.data); got != c.want {
			t.Errorf("sourceAMI(%v) = %q, want %q", c.data, got, c.want)
		}
	}
}
