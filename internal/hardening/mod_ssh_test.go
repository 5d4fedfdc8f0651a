package hardening

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
		// The switches and permit_root_login accept the values CIS advises against (reported as
		// deviations at run time); only values sshd does not know are errors.
		{"looser switches", SSHOptions{PermitRootLogin: "yes", PermitEmptyPasswords: true, PermitUserEnvironment: true,
			HostbasedAuthentication: true, IgnoreRhosts: boolPtr(false), GSSAPIAuthentication: true,
			DisableForwarding: boolPtr(false), UsePAM: boolPtr(false)}, "", 0},
		{"root login prohibit-password", SSHOptions{PermitRootLogin: "prohibit-password"}, "", 0},
		{"root login forced commands, upper case", SSHOptions{PermitRootLogin: "Forced-Commands-Only"}, "", 0},
		{"root login unknown", SSHOptions{PermitRootLogin: "without-pasword"}, "ssh.permit_root_login", 1},
		{"root login boolean word", SSHOptions{PermitRootLogin: "false"}, "ssh.permit_root_login", 1},
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
		"SSH_X11_FORWARDING": "no", "SSH_ALLOW_TCP_FORWARDING": "no", "SSH_ALLOW_AGENT_FORWARDING": "no",
		"SSH_TCP_KEEPALIVE": "no", "SSH_COMPRESSION": "no", "SSH_ALLOW_USERS": "",
		"SSH_PERMIT_ROOT_LOGIN": "no", "SSH_PERMIT_EMPTY_PASSWORDS": "no", "SSH_PERMIT_USER_ENVIRONMENT": "no",
		"SSH_HOSTBASED_AUTHENTICATION": "no", "SSH_IGNORE_RHOSTS": "yes", "SSH_GSSAPI_AUTHENTICATION": "no",
		"SSH_DISABLE_FORWARDING": "yes", "SSH_USE_PAM": "yes",
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

func TestSSHShellParamsSwitches(t *testing.T) {
	cases := []struct {
		name string
		opts SSHOptions
		key  string
		want string
	}{
		{"root login", SSHOptions{PermitRootLogin: "Prohibit-Password"}, "SSH_PERMIT_ROOT_LOGIN", "prohibit-password"},
		{"empty passwords", SSHOptions{PermitEmptyPasswords: true}, "SSH_PERMIT_EMPTY_PASSWORDS", "yes"},
		{"user environment", SSHOptions{PermitUserEnvironment: true}, "SSH_PERMIT_USER_ENVIRONMENT", "yes"},
		{"hostbased", SSHOptions{HostbasedAuthentication: true}, "SSH_HOSTBASED_AUTHENTICATION", "yes"},
		{"ignore rhosts off", SSHOptions{IgnoreRhosts: boolPtr(false)}, "SSH_IGNORE_RHOSTS", "no"},
		{"ignore rhosts on", SSHOptions{IgnoreRhosts: boolPtr(true)}, "SSH_IGNORE_RHOSTS", "yes"},
		{"gssapi", SSHOptions{GSSAPIAuthentication: true}, "SSH_GSSAPI_AUTHENTICATION", "yes"},
		{"forwarding allowed", SSHOptions{DisableForwarding: boolPtr(false)}, "SSH_DISABLE_FORWARDING", "no"},
		{"pam off", SSHOptions{UsePAM: boolPtr(false)}, "SSH_USE_PAM", "no"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.opts.shellParams()[c.key]; got != c.want {
				t.Errorf("%s = %q, want %q", c.key, got, c.want)
			}
		})
	}
}

// Every setting an option may loosen reads the option's parameter, names the option in its
// deviation note, and no longer writes the CIS value as a literal.
func TestSSHLoosenableControlsUseTheirParameter(t *testing.T) {
	want := map[string]struct{ param, option string }{
		"ssh.permit-root-login":        {"SSH_PERMIT_ROOT_LOGIN", "ssh.permit_root_login"},
		"ssh.permit-empty-passwords":   {"SSH_PERMIT_EMPTY_PASSWORDS", "ssh.permit_empty_passwords"},
		"ssh.permit-user-environment":  {"SSH_PERMIT_USER_ENVIRONMENT", "ssh.permit_user_environment"},
		"ssh.hostbased-authentication": {"SSH_HOSTBASED_AUTHENTICATION", "ssh.hostbased_authentication"},
		"ssh.ignore-rhosts":            {"SSH_IGNORE_RHOSTS", "ssh.ignore_rhosts"},
		"ssh.gssapi-authentication":    {"SSH_GSSAPI_AUTHENTICATION", "ssh.gssapi_authentication"},
		"ssh.disable-forwarding":       {"SSH_DISABLE_FORWARDING", "ssh.disable_forwarding"},
		"ssh.use-pam":                  {"SSH_USE_PAM", "ssh.use_pam"},
	}
	params := (&SSHOptions{}).shellParams()
	seen := 0
	for _, c := range moduleByName(t, "ssh").Controls {
		w, ok := want[c.ID]
		if !ok {
			continue
		}
		seen++
		if _, ok := params[w.param]; !ok {
			t.Errorf("%s: shellParams has no %s", c.ID, w.param)
		}
		if !strings.Contains(c.Fix, `_val="$`+w.param+`"`) {
			t.Errorf("%s: fix does not write $%s", c.ID, w.param)
		}
		if !strings.Contains(c.Check, `_want="$`+w.param+`"`) {
			t.Errorf("%s: check does not compare with $%s", c.ID, w.param)
		}
		if !strings.Contains(c.Check, "deviates from the CIS recommendation") || !strings.Contains(c.Check, "set by "+w.option) {
			t.Errorf("%s: check does not name %s in a deviation note", c.ID, w.option)
		}
	}
	if seen != len(want) {
		t.Errorf("found %d of the %d controls", seen, len(want))
	}
	// The root-login lockout guard stays: a root build user skips the control.
	for _, c := range moduleByName(t, "ssh").Controls {
		if c.ID == "ssh.permit-root-login" && !strings.Contains(c.Check, `if [ "$G_BUILD_USER" = root ]; then`) {
			t.Error("ssh.permit-root-login lost its root build user guard")
		}
	}
}

// The deviation note runs in a real shell: silent at the CIS value, naming the option otherwise.
func TestSSHDeviationNote(t *testing.T) {
	note := sshDeviation("IgnoreRhosts", "$SSH_IGNORE_RHOSTS", "yes", "ssh.ignore_rhosts")
	for value, want := range map[string]string{
		"yes": "",
		"no":  "IgnoreRhosts no deviates from the CIS recommendation (yes): set by ssh.ignore_rhosts\n",
	} {
		cmd := exec.Command("sh", "-c", "g_say() { printf '%s\\n' \"$*\"; }\n"+note)
		cmd.Env = append(os.Environ(), "SSH_IGNORE_RHOSTS="+value)
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("value %s: output %q (%v), want %q", value, out, err, want)
		}
	}
	if sshDeviation("Banner", "$SSH_BANNER", "", "") != "" {
		t.Error("a setting without an option got a deviation note")
	}
}

// The drop-in must sort before every other drop-in (sshd keeps the first value). The Protocol
// keyword, which sshd ignores, is no setting of the drop-in: only ssh.protocol writes it, and
// only to the main file, where scanners look.
func TestSSHDropInFirst(t *testing.T) {
	if sshdDropIn != "/etc/ssh/sshd_config.d/00-golden-hardening.conf" {
		t.Fatal(sshdDropIn)
	}
	for _, c := range moduleByName(t, "ssh").Controls {
		if !containsAll(c.Fix, "Protocol") {
			continue
		}
		if c.ID != "ssh.protocol" || strings.Contains(c.Fix, sshdDropIn) {
			t.Errorf("%s writes Protocol", c.ID)
		}
	}
}

// sshdT is a piece of `sshd -T` output (OpenSSH 9.2, Debian 12): lower-case keywords, one
// access-list entry per line.
const sshdT = "port 22\nloglevel VERBOSE\nclientaliveinterval 15\npermitrootlogin without-password\n" +
	"ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com\nallowusers admin\nallowusers ops@10.0.0.0/8\ndenyusers root\n"

// A setting passes when sshd -T has the wanted value and the main file states it; the evidence
// says what each has.
func TestSSHSettingCheckAwk(t *testing.T) {
	const main = "Include /etc/ssh/sshd_config.d/*.conf\n#LogLevel INFO\nLogLevel verbose\nclientaliveinterval=15\nPermitRootLogin prohibit-password\n" +
		"Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com\nMatch User deploy\n\tBanner /etc/issue.net\n"
	dir := writeFiles(t, t.TempDir(), map[string]string{"effective": sshdT, "sshd_config": main})
	files := []string{filepath.Join(dir, "effective"), filepath.Join(dir, "sshd_config")}
	cases := []struct {
		keyword, want string
		caseless      bool
		code          int
		lines         []string
	}{
		{"ClientAliveInterval", "15", false, 0, []string{"ClientAliveInterval 15 (want 15)", "sshd_config: ClientAliveInterval 15, as in force"}},
		{"ClientAliveInterval", "30", false, 1, []string{"ClientAliveInterval 15 (want 30)"}},
		{"LogLevel", "verbose", true, 0, []string{"LogLevel VERBOSE (want verbose)", "sshd_config: LogLevel verbose, as in force"}},
		{"LogLevel", "verbose", false, 1, []string{"LogLevel VERBOSE (want verbose)"}},
		{"LogLevel", "VERBOSE", false, 1, []string{"LogLevel VERBOSE (want VERBOSE)", "sshd_config: LogLevel verbose: the value in force is not stated"}},
		{"PermitRootLogin", "no", false, 1, []string{"PermitRootLogin without-password (want no)"}},
		// sshd -T prints prohibit-password as without-password.
		{"PermitRootLogin", "prohibit-password", true, 0, []string{"PermitRootLogin without-password (want prohibit-password)",
			"sshd_config: PermitRootLogin prohibit-password, as in force"}},
		{"Ciphers", "aes256-gcm@openssh.com,aes128-gcm@openssh.com", false, 0, []string{"Ciphers aes256-gcm@openssh.com,aes128-gcm@openssh.com (want", "as in force"}},
		{"Banner", "/etc/issue.net", false, 1, []string{"Banner (not set) (want /etc/issue.net)"}},
		// In force through a drop-in, but the main file says nothing (a Match block's line does not count).
		{"DenyUsers", "root", false, 1, []string{"DenyUsers root (want root)", "sshd_config: DenyUsers (not set): the value in force is not stated"}},
	}
	for _, c := range cases {
		caseless := "0"
		if c.caseless {
			caseless = "1"
		}
		r := awkRun{env: map[string]string{"_op": "check", "_key": c.keyword, "_want": c.want, "_caseless": caseless}, files: files}
		absent := []string{"as in force"}
		if c.code == 0 {
			absent = []string{"not stated"}
		}
		wantAwk(t, embedded("ssh/main-config.awk"), r, c.code, c.lines, absent...)
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

// The main file states a setting in its global section: the first global line replaced (whatever
// its case and separator), later ones commented out, a Match block's left alone, and an absent
// keyword inserted before the first Match block or at the end.
func TestSSHMainConfigAwk(t *testing.T) {
	const include = "Include /etc/ssh/sshd_config.d/*.conf\n"
	cases := []struct {
		name, config, key, val, want string
	}{
		{"replaced", include + "#PermitRootLogin prohibit-password\n  permitrootlogin=yes\nUsePAM yes\n", "PermitRootLogin", "no",
			include + "#PermitRootLogin prohibit-password\nPermitRootLogin no\nUsePAM yes\n"},
		{"duplicates commented out", include + "ClientAliveInterval 0\nClientAliveInterval 60\n", "ClientAliveInterval", "15",
			include + "ClientAliveInterval 15\n# golden-harden: ClientAliveInterval 60\n"},
		{"before the first Match", include + "X11Forwarding yes\nMatch User deploy\n\tPermitRootLogin yes\n", "PermitRootLogin", "no",
			include + "X11Forwarding yes\nPermitRootLogin no\nMatch User deploy\n\tPermitRootLogin yes\n"},
		{"appended", include + "Subsystem sftp /usr/lib/openssh/sftp-server\n", "MaxAuthTries", "4",
			include + "Subsystem sftp /usr/lib/openssh/sftp-server\nMaxAuthTries 4\n"},
		{"already so", include + "PermitEmptyPasswords no\n", "PermitEmptyPasswords", "no", include + "PermitEmptyPasswords no\n"},
	}
	for _, c := range cases {
		for _, awk := range awkImplementations(t) {
			set, code := awkRun{env: map[string]string{"_op": "set", "_key": c.key, "_val": c.val}, stdin: c.config}.run(t, awk, embedded("ssh/main-config.awk"))
			if code != 0 || set != c.want {
				t.Errorf("%s, %s: set: exit %d, output %q, want %q", c.name, awk, code, set, c.want)
			}
		}
	}
}

// Every setting the drop-in makes is checked and stated in the main file too.
func TestSSHSettingsStatedInMainFile(t *testing.T) {
	n := 0
	for _, c := range moduleByName(t, "ssh").Controls {
		if !strings.Contains(c.Fix, "_sshd_drop_in="+shellQuote(sshdDropIn)) || !strings.Contains(c.Fix, `g_kv_edit "$_g_sf" "$_g_sn" "$_key"`) ||
			strings.Contains(c.Fix, "_all=1") {
			continue
		}
		n++
		if !strings.Contains(c.Fix, "_op=set") || !strings.Contains(c.Check, "_op=check") {
			t.Errorf("%s sets the drop-in but does not state and check the main file", c.ID)
		}
	}
	if n < len(sshdSettings)+1 {
		t.Errorf("%d settings of the drop-in found, want %d", n, len(sshdSettings)+1)
	}
}

func boolPtr(b bool) *bool { return &b }

// One sshd -T serves every check of the module although fixes run between them (sshEffective):
// that holds only while a fix changes the keywords of its own control, which no other control
// checks or sets, and the fix that changes what sshd reads as a whole makes the checks run it again.
func TestSSHControlsOwnTheirKeywords(t *testing.T) {
	keyword := regexp.MustCompile(`\b_key=([A-Za-z0-9]+)\b|\b_keys="([A-Za-z0-9 ]+)"`)
	owner := map[string]string{}
	for _, c := range moduleByName(t, "ssh").Controls {
		mine := map[string]bool{}
		for _, m := range keyword.FindAllStringSubmatch(c.Check+c.Fix, -1) {
			for _, k := range strings.Fields(m[1] + " " + m[2]) {
				mine[strings.ToLower(k)] = true
			}
		}
		for k := range mine {
			if o, ok := owner[k]; ok {
				t.Errorf("%s and %s both check or set %s", o, c.ID, k)
			}
			owner[k] = c.ID
		}
		if forgets := strings.Contains(c.Fix, sshForget); forgets != (c.ID == "ssh.drop-in-include") {
			t.Errorf("%s: fix runs sshd -T again on the next check: %v", c.ID, forgets)
		}
	}
	if len(owner) < len(sshdSettings)+5 {
		t.Errorf("%d keywords found, want at least %d", len(owner), len(sshdSettings)+5)
	}
	if !strings.HasPrefix(moduleByName(t, "ssh").Finalize, sshForget) {
		t.Error("Finalize does not make the re-checks run sshd -T again")
	}
}

// The settings' fixes stage their edits of sshd_config and of the drop-in, which the driver
// installs once before the Finalize: a fix that wrote either file itself after a setting had
// staged it would be undone by that install. The controls that write them directly come first.
func TestSSHDirectWritesComeBeforeTheStagedOnes(t *testing.T) {
	var direct, staged []string
	for _, c := range moduleByName(t, "ssh").Controls {
		writes := strings.Contains(c.Fix, `g_set_kv "$_sshd_drop_in"`) || strings.Contains(c.Fix, `g_set_content "$_sshd_config"`) ||
			strings.Contains(c.Fix, "_all=1")
		if writes {
			if len(staged) > 0 {
				t.Errorf("%s writes sshd's files itself after %s staged them", c.ID, staged[0])
			}
			direct = append(direct, c.ID)
		}
		if strings.Contains(c.Fix, "g_stage ") {
			staged = append(staged, c.ID)
		}
	}
	if len(direct) < 2 || len(staged) < len(sshdSettings) {
		t.Errorf("direct writers %v, staging controls %d: the patterns no longer find the fixes", direct, len(staged))
	}
}
