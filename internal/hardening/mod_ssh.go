package hardening

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// SSHOptions configures the `ssh` controls (HCL block `ssh { ... }`): sshd settings of CIS 5.1,
// written as one drop-in, /etc/ssh/sshd_config.d/00-golden-hardening.conf. sshd keeps the FIRST
// value it reads for a keyword, and the main sshd_config of Debian and Ubuntu includes
// sshd_config.d/*.conf on its first line, so the drop-in wins over the main file and over later
// drop-ins such as cloud-init's 50-cloud-init.conf. Each setting is also stated, with the same
// value, in the global section of the main sshd_config, where scanners that read only that file
// look (the SCAP Security Guide's Debian content does). Checks read the effective configuration
// (`sshd -T`), so a setting overridden anywhere is caught, and the main file: a setting in force
// that the main file does not show fails. The new configuration is validated
// with `sshd -t` before sshd is reloaded (existing sessions survive); when it fails, every SSH
// file is restored and the controls are reported failed.
//
// The algorithm lists, limits and log level may tighten the CIS values, never loosen them: a
// looser value is an error at `packer validate`; to keep one, skip or waive the control instead
// (e.g. `skip = ["ssh.max-auth-tries"]`). The yes/no switches and permit_root_login accept the
// value CIS advises against: the control then checks for the configured value and its evidence
// says that the value deviates from the CIS recommendation and which option set it.
type SSHOptions struct {
	// Ciphers sshd offers (CIS 5.1.6), in order of preference. Names are OpenSSH's
	// (`ssh -Q cipher`); CBC-mode ciphers are refused. chacha20-poly1305@openssh.com is left out by
	// default (CIS asks to review it for CVE-2023-48795). Default:
	// `["aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"]`.
	Ciphers []string `mapstructure:"ciphers"`
	// MACs sshd offers (CIS 5.1.15). MD5, RIPEMD-160, 96-bit and 64-bit MACs are refused.
	// Default: `["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-256"]`.
	MACs []string `mapstructure:"macs"`
	// Key exchange algorithms sshd offers (CIS 5.1.12). SHA-1 based ones are refused. The default
	// works on every supported release (OpenSSH 8.2 and later): `["curve25519-sha256",
	// "curve25519-sha256@libssh.org", "ecdh-sha2-nistp521", "ecdh-sha2-nistp384", "ecdh-sha2-nistp256",
	// "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
	// "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256"]`. An algorithm the target's
	// sshd does not know fails `sshd -t` and the module is rolled back.
	KexAlgorithms []string `mapstructure:"kex_algorithms"`
	// Seconds a client has to authenticate (CIS 5.1.13): 1 to 60. Default: 60.
	LoginGraceTime int `mapstructure:"login_grace_time"`
	// Authentication attempts per connection (CIS 5.1.16): 1 to 4. Default: 4.
	MaxAuthTries int `mapstructure:"max_auth_tries"`
	// Sessions per network connection (CIS 5.1.17): 1 to 10. Default: 10.
	MaxSessions int `mapstructure:"max_sessions"`
	// Unauthenticated connection limits start:rate:full (CIS 5.1.18): start at most 10, rate at
	// least 30 (percent, at most 100), full at most 60 and not below start. Default: "10:30:60".
	MaxStartups string `mapstructure:"max_startups"`
	// Seconds between keep-alive probes to an idle client (CIS 5.1.7): 1 to 3600. Default: 15.
	ClientAliveInterval int `mapstructure:"client_alive_interval"`
	// Unanswered keep-alive probes before the connection is dropped (CIS 5.1.7): 1 to 10. With
	// the defaults an unresponsive client is dropped after 45 s. Default: 3.
	ClientAliveCountMax int `mapstructure:"client_alive_count_max"`
	// sshd LogLevel (CIS 5.1.14): "INFO" or "VERBOSE" (VERBOSE logs key fingerprints, which
	// fail2ban and investigations use). Default: "VERBOSE".
	LogLevel string `mapstructure:"log_level"`
	// File shown before authentication (CIS 5.1.5): an absolute path. The banners module writes
	// its content. Default: "/etc/issue.net".
	Banner string `mapstructure:"banner"`
	// AllowUsers patterns (CIS 5.1.4). When set, the build user (the communicator's user) is
	// always added, so the build keeps its SSH access. Default: none.
	AllowUsers []string `mapstructure:"allow_users"`
	// AllowGroups patterns (CIS 5.1.4). When set and the build user is in none of them, the build
	// user's primary group is added. Default: none.
	AllowGroups []string `mapstructure:"allow_groups"`
	// DenyUsers patterns (CIS 5.1.4). The build user is never written here. When none of the four
	// access lists is set, `DenyUsers root` is written: it satisfies CIS 5.1.4 without restricting
	// anyone else (root login is off anyway). Default: none.
	DenyUsers []string `mapstructure:"deny_users"`
	// DenyGroups patterns (CIS 5.1.4). Groups of the build user are never written here. Default: none.
	DenyGroups []string `mapstructure:"deny_groups"`
	// sshd PermitRootLogin (CIS 5.1.20): "no", "prohibit-password", "forced-commands-only" or
	// "yes". CIS asks for "no"; any other value is applied and reported as a deviation. When the
	// build logs in as root the control is skipped whatever the value, so the build keeps its
	// access. Default: "no".
	PermitRootLogin string `mapstructure:"permit_root_login"`
	// sshd PermitEmptyPasswords (CIS 5.1.19). CIS asks for false; true is applied and reported as
	// a deviation. Default: false.
	PermitEmptyPasswords bool `mapstructure:"permit_empty_passwords"`
	// sshd PermitUserEnvironment (CIS 5.1.21). CIS asks for false; true is applied and reported as
	// a deviation. Default: false.
	PermitUserEnvironment bool `mapstructure:"permit_user_environment"`
	// sshd HostbasedAuthentication (CIS 5.1.10). CIS asks for false; true is applied and reported
	// as a deviation. Default: false.
	HostbasedAuthentication bool `mapstructure:"hostbased_authentication"`
	// sshd IgnoreRhosts (CIS 5.1.11). CIS asks for true; false is applied and reported as a
	// deviation. Default: true.
	IgnoreRhosts *bool `mapstructure:"ignore_rhosts"`
	// sshd GSSAPIAuthentication (CIS 5.1.9, Level 2). CIS asks for false; true is applied and
	// reported as a deviation. Default: false.
	GSSAPIAuthentication bool `mapstructure:"gssapi_authentication"`
	// sshd DisableForwarding (CIS 5.1.8, control ssh.disable-forwarding, Level 2). CIS asks for
	// true; false is applied and reported as a deviation (x11_forwarding and allow_tcp_forwarding
	// then decide those kinds of forwarding). Default: true.
	DisableForwarding *bool `mapstructure:"disable_forwarding"`
	// sshd UsePAM (CIS 5.1.22). CIS asks for true; false is applied and reported as a deviation
	// (the pam module's password and lockout rules then no longer apply to SSH logins).
	// Default: true.
	UsePAM *bool `mapstructure:"use_pam"`
	// Allow password authentication (not a CIS 5.1 item; the seed turns it off). Keep it off unless
	// the image's users log in with passwords; the build itself must use a key when it is off.
	// Default: false.
	PasswordAuthentication bool `mapstructure:"password_authentication"`
	// Allow X11 forwarding. Default: false.
	X11Forwarding bool `mapstructure:"x11_forwarding"`
	// Allow TCP forwarding (control ssh.tcp-forwarding, Level 2; `DisableForwarding yes` of
	// ssh.disable-forwarding turns every kind of forwarding off anyway). Default: false.
	AllowTCPForwarding bool `mapstructure:"allow_tcp_forwarding"`
	// Allow ssh-agent forwarding (control ssh.agent-forwarding; not a CIS 5.1 item): a forwarded
	// agent lets root on the server sign with the client's keys while the session lasts. Set it
	// when the image is a bastion that users hop through with their agent. Default: false.
	AllowAgentForwarding bool `mapstructure:"allow_agent_forwarding"`
	// sshd TCPKeepAlive (control ssh.tcp-keepalive; not a CIS 5.1 item). The ClientAlive probes
	// of ssh.client-alive-interval already drop dead clients, through the encrypted channel; TCP
	// keep-alives can be spoofed and drop sessions on a brief route flap. Default: false.
	TCPKeepAlive bool `mapstructure:"tcp_keepalive"`
	// sshd Compression (control ssh.compression; not a CIS 5.1 item): compressed encrypted
	// traffic leaks the size of what it carries, and compression code runs on data from the
	// client. Default: false.
	Compression bool `mapstructure:"compression"`
}

// DefaultSSHMaxAuthTries is the MaxAuthTries control ssh.max-auth-tries sets without
// ssh.max_auth_tries (CIS 5.1.16 asks for 4 or less).
const DefaultSSHMaxAuthTries = 4

const (
	sshdConfig     = "/etc/ssh/sshd_config"
	sshdDropInDir  = "/etc/ssh/sshd_config.d"
	sshdDropIn     = sshdDropInDir + "/00-golden-hardening.conf"
	sshDropInMatch = "/etc/ssh/sshd_config.d/*.conf"
)

var (
	defaultSSHCiphers = []string{"aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr"}
	defaultSSHMACs    = []string{"hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-256"}
	defaultSSHKex     = []string{
		"curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp521", "ecdh-sha2-nistp384",
		"ecdh-sha2-nistp256", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
		"diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
	}
)

// OpenSSH algorithm names: true = acceptable, false = refused as weak by CIS 5.1.6/5.1.12/5.1.15.
var (
	sshCipherNames = map[string]bool{
		"aes128-ctr": true, "aes192-ctr": true, "aes256-ctr": true,
		"aes128-gcm@openssh.com": true, "aes256-gcm@openssh.com": true, "chacha20-poly1305@openssh.com": true,
		"3des-cbc": false, "aes128-cbc": false, "aes192-cbc": false, "aes256-cbc": false,
		"rijndael-cbc@lysator.liu.se": false, "blowfish-cbc": false, "cast128-cbc": false, "arcfour": false,
		"arcfour128": false, "arcfour256": false,
	}
	sshMACNames = map[string]bool{
		"hmac-sha2-256": true, "hmac-sha2-512": true, "hmac-sha1": true, "umac-128@openssh.com": true,
		"hmac-sha2-256-etm@openssh.com": true, "hmac-sha2-512-etm@openssh.com": true,
		"hmac-sha1-etm@openssh.com": true, "umac-128-etm@openssh.com": true,
		"hmac-md5": false, "hmac-md5-96": false, "hmac-ripemd160": false, "hmac-sha1-96": false,
		"umac-64@openssh.com": false, "hmac-md5-etm@openssh.com": false, "hmac-md5-96-etm@openssh.com": false,
		"hmac-ripemd160-etm@openssh.com": false, "hmac-sha1-96-etm@openssh.com": false, "umac-64-etm@openssh.com": false,
		"hmac-ripemd160@openssh.com": false,
	}
	sshKexNames = map[string]bool{
		"curve25519-sha256": true, "curve25519-sha256@libssh.org": true,
		"ecdh-sha2-nistp256": true, "ecdh-sha2-nistp384": true, "ecdh-sha2-nistp521": true,
		"diffie-hellman-group-exchange-sha256": true, "diffie-hellman-group14-sha256": true,
		"diffie-hellman-group16-sha512": true, "diffie-hellman-group18-sha512": true,
		"sntrup761x25519-sha512@openssh.com": true, "sntrup761x25519-sha512": true, "mlkem768x25519-sha256": true,
		"diffie-hellman-group1-sha1": false, "diffie-hellman-group14-sha1": false,
		"diffie-hellman-group-exchange-sha1": false,
	}
	sshAccessPattern = regexp.MustCompile(`^[A-Za-z0-9._*?!@%/:\[\]-]+$`)
	maxStartupsForm  = regexp.MustCompile(`^([0-9]+):([0-9]+):([0-9]+)$`)
)

func orDefaultInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orDefaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orDefaultList(v, def []string) []string {
	if len(v) == 0 {
		return def
	}
	return v
}

// orDefaultBool reads an optional switch whose default is def.
func orDefaultBool(v *bool, def bool) bool {
	if v == nil {
		return def
	}
	return *v
}

// sshPermitRootLoginValues are the PermitRootLogin values the option accepts, CIS's first.
var sshPermitRootLoginValues = []string{"no", "prohibit-password", "forced-commands-only", "yes"}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (o *SSHOptions) shellParams() map[string]string {
	return map[string]string{
		"SSH_CIPHERS":                  strings.Join(orDefaultList(o.Ciphers, defaultSSHCiphers), ","),
		"SSH_MACS":                     strings.Join(orDefaultList(o.MACs, defaultSSHMACs), ","),
		"SSH_KEX_ALGORITHMS":           strings.Join(orDefaultList(o.KexAlgorithms, defaultSSHKex), ","),
		"SSH_LOGIN_GRACE_TIME":         strconv.Itoa(orDefaultInt(o.LoginGraceTime, 60)),
		"SSH_MAX_AUTH_TRIES":           strconv.Itoa(orDefaultInt(o.MaxAuthTries, DefaultSSHMaxAuthTries)),
		"SSH_MAX_SESSIONS":             strconv.Itoa(orDefaultInt(o.MaxSessions, 10)),
		"SSH_MAX_STARTUPS":             orDefaultString(o.MaxStartups, "10:30:60"),
		"SSH_CLIENT_ALIVE_INTERVAL":    strconv.Itoa(orDefaultInt(o.ClientAliveInterval, 15)),
		"SSH_CLIENT_ALIVE_COUNT_MAX":   strconv.Itoa(orDefaultInt(o.ClientAliveCountMax, 3)),
		"SSH_LOG_LEVEL":                strings.ToUpper(orDefaultString(o.LogLevel, "VERBOSE")),
		"SSH_BANNER":                   orDefaultString(o.Banner, "/etc/issue.net"),
		"SSH_ALLOW_USERS":              strings.Join(o.AllowUsers, " "),
		"SSH_ALLOW_GROUPS":             strings.Join(o.AllowGroups, " "),
		"SSH_DENY_USERS":               strings.Join(o.DenyUsers, " "),
		"SSH_DENY_GROUPS":              strings.Join(o.DenyGroups, " "),
		"SSH_PASSWORD_AUTHENTICATION":  yesNo(o.PasswordAuthentication),
		"SSH_X11_FORWARDING":           yesNo(o.X11Forwarding),
		"SSH_ALLOW_TCP_FORWARDING":     yesNo(o.AllowTCPForwarding),
		"SSH_ALLOW_AGENT_FORWARDING":   yesNo(o.AllowAgentForwarding),
		"SSH_TCP_KEEPALIVE":            yesNo(o.TCPKeepAlive),
		"SSH_COMPRESSION":              yesNo(o.Compression),
		"SSH_PERMIT_ROOT_LOGIN":        strings.ToLower(orDefaultString(o.PermitRootLogin, "no")),
		"SSH_PERMIT_EMPTY_PASSWORDS":   yesNo(o.PermitEmptyPasswords),
		"SSH_PERMIT_USER_ENVIRONMENT":  yesNo(o.PermitUserEnvironment),
		"SSH_HOSTBASED_AUTHENTICATION": yesNo(o.HostbasedAuthentication),
		"SSH_IGNORE_RHOSTS":            yesNo(orDefaultBool(o.IgnoreRhosts, true)),
		"SSH_GSSAPI_AUTHENTICATION":    yesNo(o.GSSAPIAuthentication),
		"SSH_DISABLE_FORWARDING":       yesNo(orDefaultBool(o.DisableForwarding, true)),
		"SSH_USE_PAM":                  yesNo(orDefaultBool(o.UsePAM, true)),
	}
}

func validateAlgorithms(option string, names []string, known map[string]bool, cis string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, n := range names {
		ok, isKnown := known[n]
		switch {
		case !isKnown:
			errs = append(errs, optionErr(option, "%q is not an OpenSSH algorithm name", n))
		case !ok:
			errs = append(errs, optionErr(option, "%q is weak (%s); skip or waive the control to keep it", n, cis))
		case seen[n]:
			errs = append(errs, optionErr(option, "%q is listed twice", n))
		}
		seen[n] = true
	}
	return errs
}

func validateRange(option string, v, lo, hi int, why string) []error {
	if v == 0 || (v >= lo && v <= hi) {
		return nil
	}
	return []error{optionErr(option, "must be between %d and %d%s, got %d", lo, hi, why, v)}
}

func validateAccessList(option string, patterns []string) []error {
	var errs []error
	for _, p := range patterns {
		if !sshAccessPattern.MatchString(p) {
			errs = append(errs, optionErr(option, "%q is not a user or group pattern", p))
		}
	}
	return errs
}

func (o *SSHOptions) validate() []error {
	var errs []error
	errs = append(errs, validateAlgorithms("ssh.ciphers", o.Ciphers, sshCipherNames, "CIS 5.1.6")...)
	errs = append(errs, validateAlgorithms("ssh.macs", o.MACs, sshMACNames, "CIS 5.1.15")...)
	errs = append(errs, validateAlgorithms("ssh.kex_algorithms", o.KexAlgorithms, sshKexNames, "CIS 5.1.12")...)
	errs = append(errs, validateRange("ssh.login_grace_time", o.LoginGraceTime, 1, 60, " seconds (CIS 5.1.13)")...)
	errs = append(errs, validateRange("ssh.max_auth_tries", o.MaxAuthTries, 1, 4, " (CIS 5.1.16)")...)
	errs = append(errs, validateRange("ssh.max_sessions", o.MaxSessions, 1, 10, " (CIS 5.1.17)")...)
	errs = append(errs, validateRange("ssh.client_alive_interval", o.ClientAliveInterval, 1, 3600, " seconds")...)
	errs = append(errs, validateRange("ssh.client_alive_count_max", o.ClientAliveCountMax, 1, 10, "")...)
	if o.MaxStartups != "" {
		if err := validateMaxStartups(o.MaxStartups); err != nil {
			errs = append(errs, err)
		}
	}
	if o.LogLevel != "" && !strings.EqualFold(o.LogLevel, "INFO") && !strings.EqualFold(o.LogLevel, "VERBOSE") {
		errs = append(errs, optionErr("ssh.log_level", "must be INFO or VERBOSE (CIS 5.1.14), got %q", o.LogLevel))
	}
	if o.Banner != "" && (!path.IsAbs(o.Banner) || strings.ContainsAny(o.Banner, " \t\n'\"")) {
		errs = append(errs, optionErr("ssh.banner", "must be an absolute path without blanks or quotes, got %q", o.Banner))
	}
	if o.PermitRootLogin != "" && !slices.Contains(sshPermitRootLoginValues, strings.ToLower(o.PermitRootLogin)) {
		errs = append(errs, optionErr("ssh.permit_root_login", "must be one of %s (CIS 5.1.20 asks for \"no\"), got %q",
			strings.Join(sshPermitRootLoginValues, ", "), o.PermitRootLogin))
	}
	errs = append(errs, validateAccessList("ssh.allow_users", o.AllowUsers)...)
	errs = append(errs, validateAccessList("ssh.allow_groups", o.AllowGroups)...)
	errs = append(errs, validateAccessList("ssh.deny_users", o.DenyUsers)...)
	errs = append(errs, validateAccessList("ssh.deny_groups", o.DenyGroups)...)
	return errs
}

func validateMaxStartups(v string) error {
	m := maxStartupsForm.FindStringSubmatch(v)
	if m == nil {
		return optionErr("ssh.max_startups", "must be start:rate:full such as \"10:30:60\", got %q", v)
	}
	start, _ := strconv.Atoi(m[1])
	rate, _ := strconv.Atoi(m[2])
	full, _ := strconv.Atoi(m[3])
	if start < 1 || start > 10 || rate < 30 || rate > 100 || full > 60 || full < start {
		return optionErr("ssh.max_startups", "%q is looser than CIS 5.1.18 allows (start 1-10, rate 30-100, full at most 60 and not below start)", v)
	}
	return nil
}

// sshEffective is shell that sets _t to a file holding sshd's effective configuration, as CIS
// audits it: for a connection as root from the local host, so Match blocks that apply to it
// count. One sshd -T serves every check of the module (the file is kept in the run's work
// directory): a setting's fix changes only its own keywords, which no other control checks, so
// what sshd -T said of the others still holds. The fixes that change what sshd reads as a whole
// (sshForget), and the module's Finalize, before the re-checks, make the next check run it again.
var sshEffective = embedded("ssh/effective.sh") + "\n"

// sshForget is shell that makes the next check run sshd -T again.
const sshForget = "\trm -f -- \"$G_WORK_DIR/ssh.effective\"\n"

// sshNeutralizeAwk comments out the global-section lines that set one of the keywords in _keys
// (space-separated).
var sshNeutralizeAwk = embedded("ssh/neutralize.awk")

// sshNeutralize is shell that comments out the keywords in _keys where sshd would read it before our
// drop-in (drop-ins sorting before ours) or, for keywords whose values add up (_all=1), anywhere
// in the global section of the other files. The glob lists the drop-ins in the order sshd reads
// them (the script runs with LC_ALL=C, as sshd's glob sorts).
var sshNeutralize = embeddedWith("ssh/neutralize.sh", "_sshd_config", sshdConfig, "_sshd_drop_in", sshdDropIn, "_sshd_drop_in_dir", sshdDropInDir, "_ssh_neutralize_awk", sshNeutralizeAwk) + "\n"

// sshSetDropIn is shell that writes "_key _val" into our drop-in (created 0600 root:root), staged
// (g_stage): every setting's fix edits the module's pending copy, installed once before Finalize.
var sshSetDropIn = embeddedWith("ssh/set-drop-in.sh", "_sshd_drop_in", sshdDropIn) + "\n"

// sshMainAwk reads and sets a keyword in the global section of the main sshd_config.
var sshMainAwk = embedded("ssh/main-config.awk")

// sshSetMain is shell that states "_key _val" in the global section of the main sshd_config,
// staged as sshSetDropIn is.
var sshSetMain = embeddedWith("ssh/set-main.sh", "_sshd_config", sshdConfig, "_ssh_main_awk", sshMainAwk) + "\n"

// sshSettingCheck is the check of one setting of the drop-in: in force (sshd -T), and stated in
// the main file, where a scanner that reads only that file looks: one awk for both.
func sshSettingCheck(keyword, value string, caseless bool) string {
	c := "0"
	if caseless {
		c = "1"
	}
	return sshEffective + `	_op=check _key=` + keyword + ` _want="` + value + `" _caseless=` + c + ` awk ` + shellQuote(sshMainAwk) + ` "$_t" ` + sshdConfig
}

// sshSettingFix sets the keyword to the value in the drop-in, neutralizes the drop-ins read
// before it, and states the value in the main file.
func sshSettingFix(keyword, value string) string {
	return `	_key=` + keyword + `
	_keys=$_key
	_val="` + value + `"
	_all=0
` + sshSetDropIn + sshNeutralize + sshSetMain
}

// sshdSetting is one sshd keyword the drop-in sets.
type sshdSetting struct {
	name           string // control name after "ssh."
	title          string
	level          int
	ubuntu, debian string
	keyword        string // sshd_config keyword
	value          string // shell word: the wanted value
	caseless       bool   // compare case-insensitively (yes/no, log levels)
	// cis and option are set when the option may loosen the setting: the value CIS asks for
	// and the option's HCL name, for the deviation note in the evidence.
	cis, option string
}

// sshDeviation is shell that says, in the control's evidence, that the wanted value (a shell
// word) is not the one CIS asks for and which option chose it. The check still compares the
// host with the wanted value: the user chose it, the report must not hide it.
func sshDeviation(keyword, value, cis, option string) string {
	if option == "" {
		return ""
	}
	return `	if [ "` + value + `" != ` + cis + ` ]; then
		g_say "` + keyword + ` ` + value + ` deviates from the CIS recommendation (` + cis + `): set by ` + option + `"
	fi
`
}

var sshdSettings = []sshdSetting{
	{name: "banner", title: "Ensure sshd Banner is configured", level: 1, ubuntu: "5.1.5", debian: "5.1.5", keyword: "Banner", value: "$SSH_BANNER"},
	{name: "ciphers", title: "Ensure sshd Ciphers are configured", level: 1, ubuntu: "5.1.6", debian: "5.1.6", keyword: "Ciphers", value: "$SSH_CIPHERS"},
	{name: "client-alive-interval", title: "Ensure sshd ClientAliveInterval is configured", level: 1, ubuntu: "5.1.7", debian: "5.1.7", keyword: "ClientAliveInterval", value: "$SSH_CLIENT_ALIVE_INTERVAL"},
	{name: "client-alive-count-max", title: "Ensure sshd ClientAliveCountMax is configured", level: 1, ubuntu: "5.1.7", debian: "5.1.7", keyword: "ClientAliveCountMax", value: "$SSH_CLIENT_ALIVE_COUNT_MAX"},
	{name: "disable-forwarding", title: "Ensure sshd DisableForwarding is enabled", level: 2, ubuntu: "5.1.8", debian: "5.1.8", keyword: "DisableForwarding", value: "$SSH_DISABLE_FORWARDING", caseless: true, cis: "yes", option: "ssh.disable_forwarding"},
	{name: "gssapi-authentication", title: "Ensure sshd GSSAPIAuthentication is disabled", level: 2, ubuntu: "5.1.9", debian: "5.1.9", keyword: "GSSAPIAuthentication", value: "$SSH_GSSAPI_AUTHENTICATION", caseless: true, cis: "no", option: "ssh.gssapi_authentication"},
	{name: "hostbased-authentication", title: "Ensure sshd HostbasedAuthentication is disabled", level: 1, ubuntu: "5.1.10", debian: "5.1.10", keyword: "HostbasedAuthentication", value: "$SSH_HOSTBASED_AUTHENTICATION", caseless: true, cis: "no", option: "ssh.hostbased_authentication"},
	{name: "ignore-rhosts", title: "Ensure sshd IgnoreRhosts is enabled", level: 1, ubuntu: "5.1.11", debian: "5.1.11", keyword: "IgnoreRhosts", value: "$SSH_IGNORE_RHOSTS", caseless: true, cis: "yes", option: "ssh.ignore_rhosts"},
	{name: "kex-algorithms", title: "Ensure sshd KexAlgorithms is configured", level: 1, ubuntu: "5.1.12", debian: "5.1.12", keyword: "KexAlgorithms", value: "$SSH_KEX_ALGORITHMS"},
	{name: "login-grace-time", title: "Ensure sshd LoginGraceTime is configured", level: 1, ubuntu: "5.1.13", debian: "5.1.13", keyword: "LoginGraceTime", value: "$SSH_LOGIN_GRACE_TIME"},
	{name: "log-level", title: "Ensure sshd LogLevel is configured", level: 1, ubuntu: "5.1.14", debian: "5.1.14", keyword: "LogLevel", value: "$SSH_LOG_LEVEL", caseless: true},
	{name: "macs", title: "Ensure sshd MACs are configured", level: 1, ubuntu: "5.1.15", debian: "5.1.15", keyword: "MACs", value: "$SSH_MACS"},
	{name: "max-auth-tries", title: "Ensure sshd MaxAuthTries is configured", level: 1, ubuntu: "5.1.16", debian: "5.1.16", keyword: "MaxAuthTries", value: "$SSH_MAX_AUTH_TRIES"},
	{name: "max-sessions", title: "Ensure sshd MaxSessions is configured", level: 1, ubuntu: "5.1.17", debian: "5.1.17", keyword: "MaxSessions", value: "$SSH_MAX_SESSIONS"},
	{name: "max-startups", title: "Ensure sshd MaxStartups is configured", level: 1, ubuntu: "5.1.18", debian: "5.1.18", keyword: "MaxStartups", value: "$SSH_MAX_STARTUPS"},
	{name: "permit-empty-passwords", title: "Ensure sshd PermitEmptyPasswords is disabled", level: 1, ubuntu: "5.1.19", debian: "5.1.19", keyword: "PermitEmptyPasswords", value: "$SSH_PERMIT_EMPTY_PASSWORDS", caseless: true, cis: "no", option: "ssh.permit_empty_passwords"},
	{name: "permit-user-environment", title: "Ensure sshd PermitUserEnvironment is disabled", level: 1, ubuntu: "5.1.21", debian: "5.1.21", keyword: "PermitUserEnvironment", value: "$SSH_PERMIT_USER_ENVIRONMENT", caseless: true, cis: "no", option: "ssh.permit_user_environment"},
	{name: "use-pam", title: "Ensure sshd UsePAM is enabled", level: 1, ubuntu: "5.1.22", debian: "5.1.22", keyword: "UsePAM", value: "$SSH_USE_PAM", caseless: true, cis: "yes", option: "ssh.use_pam"},
	{name: "password-authentication", title: "Ensure sshd PasswordAuthentication is configured (disabled by default)", level: 1, keyword: "PasswordAuthentication", value: "$SSH_PASSWORD_AUTHENTICATION", caseless: true},
	{name: "pubkey-authentication", title: "Ensure sshd PubkeyAuthentication is enabled", level: 1, keyword: "PubkeyAuthentication", value: "yes", caseless: true},
	{name: "x11-forwarding", title: "Ensure sshd X11Forwarding is configured (disabled by default)", level: 1, keyword: "X11Forwarding", value: "$SSH_X11_FORWARDING", caseless: true},
	{name: "tcp-forwarding", title: "Ensure sshd AllowTcpForwarding is configured (disabled by default)", level: 2, keyword: "AllowTcpForwarding", value: "$SSH_ALLOW_TCP_FORWARDING", caseless: true},
	{name: "agent-forwarding", title: "Ensure sshd AllowAgentForwarding is configured (disabled by default)", level: 1, keyword: "AllowAgentForwarding", value: "$SSH_ALLOW_AGENT_FORWARDING", caseless: true},
	{name: "tcp-keepalive", title: "Ensure sshd TCPKeepAlive is configured (disabled by default: the ClientAlive probes detect dead clients)", level: 1, keyword: "TCPKeepAlive", value: "$SSH_TCP_KEEPALIVE", caseless: true},
	{name: "compression", title: "Ensure sshd Compression is configured (disabled by default)", level: 1, keyword: "Compression", value: "$SSH_COMPRESSION", caseless: true},
}

func (s sshdSetting) control() Control {
	return Control{
		ID:    "ssh." + s.name,
		Title: s.title,
		Refs:  cisRefs(s.ubuntu, s.debian),
		Level: s.level,
		OS:    debianFamilies,
		Check: sshDeviation(s.keyword, s.value, s.cis, s.option) + sshSettingCheck(s.keyword, s.value, s.caseless),
		Fix:   sshSettingFix(s.keyword, s.value),
	}
}

// sshAccessLists is shell that computes the four access lists with the lockout guard applied
// (_au _ag _du _dg): the build user always passes them.
var sshAccessLists = embedded("ssh/access-lists.sh") + "\n"

// sshAccessAwk compares the four access lists of the sshd -T output with the wanted ones (_au
// _ag _du _dg in the environment) as sets, prints each as sshd has it (sorted) and exits 0 when
// all four agree.
var sshAccessAwk = embedded("ssh/access.awk")

func sshAccessControl() Control {
	return Control{
		ID:    "ssh.access",
		Title: "Ensure sshd access is configured (AllowUsers, AllowGroups, DenyUsers, DenyGroups)",
		Refs:  cisRefs("5.1.4", "5.1.4"),
		Level: 1,
		OS:    debianFamilies,
		Check: sshAccessLists + embedded("ssh/access-gate.sh") + "\n" + sshEffective + `	_au=$_au _ag=$_ag _du=$_du _dg=$_dg awk '` + sshAccessAwk + `' "$_t"`,
		Fix:   sshAccessLists + embeddedWith("ssh/access-fix.sh", "_sshd_drop_in", sshdDropIn) + "\n" + sshNeutralize,
	}
}

// sshModeCheck is shell that checks the files in _files (globs): mode without any bit of _deny
// (octal), owner root, group root (or _group when set); sshModeFix sets _mode and root:root on
// the files that fail. One stat reads all of them.
var (
	sshModeCheck = embedded("ssh/mode-check.sh")
	sshModeFix   = embedded("ssh/mode-fix.sh")
)

func sshModeControl(name, title, ubuntu, debian, files, deny, mode, group string) Control {
	vars := fmt.Sprintf("\t_files=\"%s\"\n\t_deny=%s\n\t_group=%s\n", files, deny, group)
	return Control{
		ID:    "ssh." + name,
		Title: title,
		Refs:  cisRefs(ubuntu, debian),
		Level: 1,
		OS:    debianFamilies,
		Check: vars + sshModeCheck,
		Fix:   vars + "\t_mode=" + mode + "\n" + sshModeFix,
	}
}

func init() {
	controls := []Control{{
		ID:    "ssh.drop-in-include",
		Title: "Ensure sshd reads the sshd_config.d drop-ins before the settings of sshd_config",
		Level: 1,
		OS:    debianFamilies,
		Check: embeddedWith("ssh/drop-in-include-check.sh", "_sshd_config", sshdConfig, "_ssh_drop_in_match", sshDropInMatch),
		// sshd reads the drop-ins from now on: every setting may change.
		Fix: sshForget + embeddedWith("ssh/drop-in-include-fix.sh", "_sshd_config", sshdConfig, "_ssh_drop_in_match", sshDropInMatch),
	}}
	controls = append(controls,
		sshModeControl("config-permissions", "Ensure permissions on /etc/ssh/sshd_config and its drop-ins are configured",
			"5.1.1", "5.1.1", sshdConfig+" "+sshdDropInDir+"/*.conf", "177", "600", "root"),
		sshModeControl("private-host-keys", "Ensure permissions on SSH private host key files are configured",
			"5.1.2", "5.1.2", "/etc/ssh/ssh_host_*_key", "137", "600", "ssh_keys"),
		sshModeControl("public-host-keys", "Ensure permissions on SSH public host key files are configured",
			"5.1.3", "5.1.3", "/etc/ssh/ssh_host_*_key.pub", "133", "644", "root"),
		sshAccessControl(),
		sshProtocolControl(),
	)
	for _, s := range sshdSettings {
		controls = append(controls, s.control())
	}
	controls = append(controls, Control{
		ID:    "ssh.permit-root-login",
		Title: "Ensure sshd PermitRootLogin is disabled",
		Refs:  cisRefs("5.1.20", "5.1.20"),
		Level: 1,
		OS:    debianFamilies,
		Check: embedded("ssh/permit-root-login-gate.sh") + "\n" + sshDeviation("PermitRootLogin", "$SSH_PERMIT_ROOT_LOGIN", "no", "ssh.permit_root_login") +
			sshSettingCheck("PermitRootLogin", "$SSH_PERMIT_ROOT_LOGIN", true),
		Fix: sshSettingFix("PermitRootLogin", "$SSH_PERMIT_ROOT_LOGIN"),
	})
	register(Module{
		Name:        "ssh",
		Description: "sshd hardened per CIS 5.1 through one drop-in read first; validated with sshd -t, then reloaded (sessions survive).",
		Order:       60,
		Finalize:    sshForget + embeddedWith("ssh/finalize.sh", "_sshd_config", sshdConfig),
		Controls:    controls,
	})
}
