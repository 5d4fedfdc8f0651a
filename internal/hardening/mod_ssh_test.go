package hardening

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSSHValidate(t *testing.T) {
	cases := []struct {
		name   string
		opts   SSHOptions
		option string
		n      int
	}{
		{"defaults", SSHOptions{}, "", 0},
		{"tighter values", SSHOptions{MaxAuthTries: 3, LoginGraceTime: 30, MaxStartups: "5:50:30", LogLevel: "info",
			Ciphers: []string{"chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com"}, AllowGroups: []string{"ssh-users"}}, "", 0},
		{"unknown cipher", SSHOptions{Ciphers: []string{"aes256-gmc"}}, "ssh.ciphers", 1},
		{"weak cipher", SSHOptions{Ciphers: []string{"aes128-cbc"}}, "ssh.ciphers", 1},
		{"duplicate cipher", SSHOptions{Ciphers: []string{"aes128-ctr", "aes128-ctr"}}, "ssh.ciphers", 1},
		{"weak MAC", SSHOptions{MACs: []string{"hmac-md5", "umac-64@openssh.com"}}, "ssh.macs", 2},
		{"weak KEX", SSHOptions{KexAlgorithms: []string{"diffie-hellman-group1-sha1"}}, "ssh.kex_algorithms", 1},
		{"grace time too long", SSHOptions{LoginGraceTime: 120}, "ssh.login_grace_time", 1},
		{"negative grace time", SSHOptions{LoginGraceTime: -1}, "ssh.login_grace_time", 1},
		{"too many auth tries", SSHOptions{MaxAuthTries: 6}, "ssh.max_auth_tries", 1},
		{"too many sessions", SSHOptions{MaxSessions: 11}, "ssh.max_sessions", 1},
		{"client alive interval", SSHOptions{ClientAliveInterval: 7200}, "ssh.client_alive_interval", 1},
		{"client alive count", SSHOptions{ClientAliveCountMax: 11}, "ssh.client_alive_count_max", 1},
		{"max startups form", SSHOptions{MaxStartups: "10"}, "ssh.max_startups", 1},
		{"max startups looser", SSHOptions{MaxStartups: "20:30:100"}, "ssh.max_startups", 1},
		{"log level", SSHOptions{LogLevel: "DEBUG3"}, "ssh.log_level", 1},
		{"banner relative", SSHOptions{Banner: "issue.net"}, "ssh.banner", 1},
		{"banner none", SSHOptions{Banner: "none"}, "ssh.banner", 1},
		{"allow users pattern", SSHOptions{AllowUsers: []string{"bad user"}}, "ssh.allow_users", 1},
		{"deny groups pattern", SSHOptions{DenyGroups: []string{"a;b"}}, "ssh.deny_groups", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOptionErrors(t, c.opts.validate(), c.option, c.n)
		})
	}
}

func TestSSHShellParamsDefaults(t *testing.T) {
	p := (&SSHOptions{}).shellParams()
	want := map[string]string{
		"SSH_MAX_AUTH_TRIES": "4", "SSH_MAX_SESSIONS": "10", "SSH_MAX_STARTUPS": "10:30:60",
		"SSH_LOGIN_GRACE_TIME": "60", "SSH_CLIENT_ALIVE_INTERVAL": "15", "SSH_CLIENT_ALIVE_COUNT_MAX": "3",
		"SSH_LOG_LEVEL": "VERBOSE", "SSH_BANNER": "/etc/issue.net", "SSH_PASSWORD_AUTHENTICATION": "no",
		"SSH_X11_FORWARDING": "no", "SSH_ALLOW_TCP_FORWARDING": "no", "SSH_ALLOW_USERS": "",
		"SSH_CIPHERS":        "aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr",
		"SSH_MACS":           "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,hmac-sha2-256",
		"SSH_KEX_ALGORITHMS": "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp521,ecdh-sha2-nistp384,ecdh-sha2-nistp256,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	// The defaults themselves pass validation.
	def := SSHOptions{Ciphers: defaultSSHCiphers, MACs: defaultSSHMACs, KexAlgorithms: defaultSSHKex, MaxStartups: "10:30:60"}
	if errs := def.validate(); len(errs) != 0 {
		t.Fatal(errs)
	}
}

// The drop-in must sort before every other drop-in (sshd keeps the first value), and no
// control may write the obsolete Protocol keyword.
func TestSSHDropInFirst(t *testing.T) {
	if sshdDropIn != "/etc/ssh/sshd_config.d/00-golden-hardening.conf" {
		t.Fatal(sshdDropIn)
	}
	for _, c := range moduleByName(t, "ssh").Controls {
		if containsAll(c.Fix, "Protocol") {
			t.Errorf("%s writes Protocol", c.ID)
		}
	}
}

// sshdT is a piece of `sshd -T` output (OpenSSH 9.2, Debian 12): lower-case keywords, one
// access-list entry per line.
const sshdT = "port 22\nloglevel VERBOSE\nclientaliveinterval 15\npermitrootlogin without-password\n" +
	"ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com\nallowusers admin\nallowusers ops@10.0.0.0/8\ndenyusers root\n"

func TestSSHValueAwk(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{"effective": sshdT})
	file := []string{filepath.Join(dir, "effective")}
	cases := []struct {
		keyword, want string
		caseless      bool
		code          int
		line          string
	}{
		{"ClientAliveInterval", "15", false, 0, "ClientAliveInterval 15 (want 15)"},
		{"ClientAliveInterval", "30", false, 1, "ClientAliveInterval 15 (want 30)"},
		{"LogLevel", "verbose", true, 0, "LogLevel VERBOSE (want verbose)"},
		{"LogLevel", "verbose", false, 1, "LogLevel VERBOSE (want verbose)"},
		{"PermitRootLogin", "no", false, 1, "PermitRootLogin without-password (want no)"},
		{"Ciphers", "aes256-gcm@openssh.com,aes128-gcm@openssh.com", false, 0, "Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com (want"},
		{"Banner", "/etc/issue.net", false, 1, "Banner (not set) (want /etc/issue.net)"},
	}
	for _, c := range cases {
		caseless := "0"
		if c.caseless {
			caseless = "1"
		}
		r := awkRun{vars: map[string]string{"k": strings.ToLower(c.keyword), "name": c.keyword, "caseless": caseless},
			env: map[string]string{"_want": c.want}, files: file}
		wantAwk(t, sshValueAwk, r, c.code, []string{c.line})
	}
}

func TestSSHAccessAwk(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{"effective": sshdT})
	file := []string{filepath.Join(dir, "effective")}
	same := map[string]string{"_au": "ops@10.0.0.0/8 admin", "_ag": "", "_du": "root", "_dg": ""}
	wantAwk(t, sshAccessAwk, awkRun{env: same, files: file}, 0,
		[]string{"allowusers: admin ops@10.0.0.0/8", "allowgroups: (none)", "denyusers: root", "denygroups: (none)"})
	other := map[string]string{"_au": "admin", "_ag": "", "_du": "root", "_dg": "nogroup"}
	wantAwk(t, sshAccessAwk, awkRun{env: other, files: file}, 1, []string{"allowusers: admin ops@10.0.0.0/8", "denygroups: (none)"})
}

// The global settings of the keywords go, whatever their case and separator; a Match block's stay.
func TestSSHNeutralizeAwk(t *testing.T) {
	config := "Include /etc/ssh/sshd_config.d/*.conf\nAllowUsers ops\n  denyusers=guest\nPermitRootLogin no\nMatch User deploy\n\tAllowUsers deploy\n"
	want := "Include /etc/ssh/sshd_config.d/*.conf\n# golden-harden: AllowUsers ops\n# golden-harden:   denyusers=guest\nPermitRootLogin no\nMatch User deploy\n\tAllowUsers deploy\n"
	for _, awk := range awkImplementations(t) {
		out, code := awkRun{env: map[string]string{"_keys": "AllowUsers AllowGroups DenyUsers DenyGroups"}, stdin: config}.run(t, awk, sshNeutralizeAwk)
		if code != 0 || out != want {
			t.Errorf("%s: exit %d, output %q, want %q", awk, code, out, want)
		}
	}
}
