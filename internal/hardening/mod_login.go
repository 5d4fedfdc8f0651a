package hardening

import (
	"fmt"
	"regexp"
	"strconv"
)

// LoginOptions configures the `login` module (HCL block `login { ... }`): password ageing and
// hashing in /etc/login.defs, the inactivity lock of new accounts, the default umask and the idle
// shell timeout.
//
// Like the `pam` block, the numbers are bounds: a host already stricter keeps its setting.
//
// Password ages apply to accounts created after the build. Existing accounts keep theirs unless
// `apply_to_existing_users` is set: a maximum age applied to an account whose password was last
// changed long ago (a user baked into the source image) expires it at once, and an expired
// password blocks even key-based SSH logins through PAM.
//
// Accounts without a usable password (locked or none: the default user cloud-init creates at
// every later launch of the image, users of the user data, service accounts) log in with keys
// only; the ageing useradd gives them would lock their key logins, sudo and cron once it runs
// out. The controls `login.pass-max-days` and `login.inactive` therefore also install
// `golden-key-only-accounts.service`, which at every boot, after cloud-init has created its
// users and before anyone logs in, clears the maximum age and the inactivity lock of such
// accounts (`chage --maxdays -1 --inactive -1`). Accounts with a password hash keep the ageing,
// which is what CIS audits. An account created by hand without a password while the machine
// runs is exempted at its next boot.
type LoginOptions struct {
	// Maximum days a password may be used (`PASS_MAX_DAYS`). Default 365.
	PassMaxDays int `mapstructure:"pass_max_days"`
	// Minimum days between password changes (`PASS_MIN_DAYS`). Default 1 (a Level 2
	// recommendation: control `login.pass-min-days`).
	PassMinDays int `mapstructure:"pass_min_days"`
	// Days of warning before a password expires (`PASS_WARN_AGE`). Default 7.
	PassWarnAge int `mapstructure:"pass_warn_age"`
	// Password hashing of the shadow tools (`ENCRYPT_METHOD`): `YESCRYPT`, `SHA512`, or `auto`
	// (default): YESCRYPT where the installed shadow tools support it (Debian 12, Ubuntu 22.04 and
	// later; pam_unix already hashes with yescrypt there), SHA512 elsewhere.
	EncryptMethod string `mapstructure:"encrypt_method"`
	// Days after a password expires before the account is locked, for new accounts
	// (`useradd -D -f`). Default 30; the benchmark asks for 45 or less.
	InactiveDays int `mapstructure:"inactive_days"`
	// Default umask of login shells and of useradd (`UMASK` in /etc/login.defs and
	// /etc/profile.d/golden-umask.sh). Default `027`. Must mask at least group and other write
	// (`022`).
	Umask string `mapstructure:"umask"`
	// Seconds an interactive shell may stay idle before it exits (`TMOUT`, read-only, in
	// /etc/profile.d/golden-tmout.sh). Default 900. Packer's own commands are not interactive and
	// are not affected.
	ShellTimeout int `mapstructure:"shell_timeout"`
	// Also apply the password ages and the inactivity lock to existing accounts that have a
	// password (`chage`), never to the build user. Default false: see above why.
	ApplyToExistingUsers bool `mapstructure:"apply_to_existing_users"`
}

const (
	loginDefaultPassMaxDays  = 365
	loginDefaultPassMinDays  = 1
	loginDefaultPassWarnAge  = 7
	loginDefaultInactiveDays = 30
	loginDefaultUmask        = "027"
	loginDefaultShellTimeout = 900
)

var umaskPattern = regexp.MustCompile(`^0?[0-7]{3}$`)

func (o *LoginOptions) shellParams() map[string]string {
	method := o.EncryptMethod
	if method == "" {
		method = "auto"
	}
	umask := o.Umask
	if umask == "" {
		umask = loginDefaultUmask
	}
	existing := "0"
	if o.ApplyToExistingUsers {
		existing = "1"
	}
	return map[string]string{
		"LOGIN_PASS_MAX_DAYS":           itoaOr(o.PassMaxDays, loginDefaultPassMaxDays),
		"LOGIN_PASS_MIN_DAYS":           itoaOr(o.PassMinDays, loginDefaultPassMinDays),
		"LOGIN_PASS_WARN_AGE":           itoaOr(o.PassWarnAge, loginDefaultPassWarnAge),
		"LOGIN_ENCRYPT_METHOD":          method,
		"LOGIN_INACTIVE_DAYS":           itoaOr(o.InactiveDays, loginDefaultInactiveDays),
		"LOGIN_UMASK":                   umask,
		"LOGIN_SHELL_TIMEOUT":           itoaOr(o.ShellTimeout, loginDefaultShellTimeout),
		"LOGIN_APPLY_TO_EXISTING_USERS": existing,
	}
}

func (o *LoginOptions) validate() []error {
	errs := collectRangeErrors("login", []intRange{
		{"pass_max_days", o.PassMaxDays, 1, 99999},
		{"pass_min_days", o.PassMinDays, 1, 99999},
		{"pass_warn_age", o.PassWarnAge, 1, 99999},
		{"inactive_days", o.InactiveDays, 1, 99999},
		{"shell_timeout", o.ShellTimeout, 1, 86400},
	})
	maxDays, _ := strconv.Atoi(itoaOr(o.PassMaxDays, loginDefaultPassMaxDays))
	minDays, _ := strconv.Atoi(itoaOr(o.PassMinDays, loginDefaultPassMinDays))
	warnAge, _ := strconv.Atoi(itoaOr(o.PassWarnAge, loginDefaultPassWarnAge))
	if minDays >= maxDays {
		errs = append(errs, fmt.Errorf("login.pass_min_days: %d must be lower than pass_max_days (%d)", minDays, maxDays))
	}
	if warnAge >= maxDays {
		errs = append(errs, fmt.Errorf("login.pass_warn_age: %d must be lower than pass_max_days (%d)", warnAge, maxDays))
	}
	switch o.EncryptMethod {
	case "", "auto", "YESCRYPT", "SHA512":
	default:
		errs = append(errs, fmt.Errorf("login.encrypt_method: %q must be auto, YESCRYPT or SHA512", o.EncryptMethod))
	}
	if o.Umask != "" {
		if !umaskPattern.MatchString(o.Umask) {
			errs = append(errs, fmt.Errorf("login.umask: %q must be three octal digits such as 027", o.Umask))
		} else if v, _ := strconv.ParseInt(o.Umask, 8, 32); v&0o022 != 0o022 {
			errs = append(errs, fmt.Errorf("login.umask: %s must mask write access for group and others (at least 022)", o.Umask))
		}
	}
	return errs
}

// encryptMethodWant sets _want to the ENCRYPT_METHOD to enforce. In auto mode, YESCRYPT when the
// shadow tools know its settings (they are linked into chpasswd), SHA512 otherwise.
var encryptMethodWant = embedded("login/encrypt-method-want.sh")

// loginDefsControl is one numeric /etc/login.defs setting (op as in settingAwk).
func loginDefsControl(name, title, cisID string, level int, key, op, want string) Control {
	return Control{ID: "login." + name, Title: title, Refs: cisRefsSame(cisID), Level: level, OS: debianFamilies,
		Check: settingCheck("/etc/login.defs", "", key, op, want),
		Fix:   fmt.Sprintf(`g_set_kv /etc/login.defs %s "%s"`, key, want)}
}

// existingUsersAwk prints "user max min warn inactive" for every account with a usable password
// whose ageing fields are weaker than the options, with the values to set: the options' values,
// or the account's own where it is already stricter. The build user is left out.
var existingUsersAwk = embedded("login/existing-users.awk")

func init() {
	register(Module{
		Name:        "login",
		Description: "Password ageing and hashing in /etc/login.defs, inactivity lock, default umask and idle shell timeout.",
		Order:       110,
		Controls: []Control{
			withKeyOnlyExemption(loginDefsControl("pass-max-days", "Ensure password expiration is configured", "5.4.1.1", 1,
				"PASS_MAX_DAYS", "le", "$LOGIN_PASS_MAX_DAYS")),
			loginDefsControl("pass-min-days", "Ensure minimum password days is configured", "5.4.1.2", 2,
				"PASS_MIN_DAYS", "ge", "$LOGIN_PASS_MIN_DAYS"),
			loginDefsControl("pass-warn-age", "Ensure password expiration warning days is configured", "5.4.1.3", 1,
				"PASS_WARN_AGE", "ge", "$LOGIN_PASS_WARN_AGE"),
			{
				ID: "login.encrypt-method", Title: "Ensure strong password hashing algorithm is configured",
				Refs: cisRefsSame("5.4.1.4"), Level: 1, OS: debianFamilies,
				Check: encryptMethodWant + "\n" + embedded("login/encrypt-method-check.sh"),
				Fix: encryptMethodWant + `
g_set_kv /etc/login.defs ENCRYPT_METHOD "$_want"`,
			},
			withKeyOnlyExemption(Control{
				ID: "login.inactive", Title: "Ensure inactive password lock is configured",
				Refs: cisRefsSame("5.4.1.5"), Level: 1, OS: debianFamilies,
				Check: embedded("login/inactive-check.sh"),
				Fix:   embedded("login/inactive-fix.sh"),
			}),
			{
				ID: "login.existing-users", Title: "Ensure password ageing applies to existing accounts with a password",
				Refs: append(cisRefsSame("5.4.1.1"), cisRefsSame("5.4.1.5")...), Level: 1, OS: debianFamilies,
				Check: embeddedWith("login/existing-users-check.sh", "_login_ages_awk", existingUsersAwk),
				Fix:   embeddedWith("login/existing-users-fix.sh", "_login_ages_awk", existingUsersAwk),
			},
			{
				ID: "login.shell-timeout", Title: "Ensure default user shell timeout is configured",
				Refs: cisRefsSame("5.4.3.2"), Level: 1, OS: debianFamilies,
				Check: "_want=$(" + tmoutScript + ")\n" + embedded("login/shell-timeout-check.sh"),
				Fix:   tmoutScript + ` | g_write_file /etc/profile.d/golden-tmout.sh 0644 root:root`,
			},
			{
				ID: "login.umask", Title: "Ensure default user umask is configured",
				Refs: cisRefsSame("5.4.3.3"), Level: 1, OS: debianFamilies,
				// login.defs UMASK also gives useradd's home directories their mode (0750 with 027).
				Check: embedded("login/umask-check.sh"),
				Fix:   embedded("login/umask-fix.sh"),
			},
		},
	})
}

// tmoutScript prints the content of /etc/profile.d/golden-tmout.sh. A shell that sourced a
// stricter read-only TMOUT before keeps it (assigning a read-only variable is an error).
var tmoutScript = embedded("login/tmout.sh")

// Accounts without a usable password (cloud-init's default user, users of the user data, service
// accounts) get the password ageing of login.defs and `useradd -D` when they are created, at
// every later launch of the image; once it runs out, PAM's account stack refuses their key
// logins, sudo and cron. The controls that set that ageing therefore also install a boot-time
// unit that clears it for such accounts (scripts/login/key-only-accounts.*), and run it once.
const (
	keyOnlyScriptPath = "/usr/local/sbin/golden-key-only-accounts"
	keyOnlyUnitPath   = "/etc/systemd/system/golden-key-only-accounts.service"
	keyOnlyWantsPath  = "/etc/systemd/system/multi-user.target.wants/golden-key-only-accounts.service"
)

// keyOnlyPaths are those paths as the shell variables the key-only scripts read.
var keyOnlyPaths = []string{"_ko_script_path", keyOnlyScriptPath, "_ko_unit_path", keyOnlyUnitPath, "_ko_wants_path", keyOnlyWantsPath}

// keyOnlyCheck is shell that sets _ko to 0 when the unit is installed and enabled and no account
// without a password has ageing, 1 otherwise, with evidence lines.
func keyOnlyCheck() string {
	return `# shellcheck disable=SC2016 # the text of a script, expanded where it runs
_ko_script=` + shellQuote(embedded("login/key-only-accounts.sh")) + `
_ko_unit=` + shellQuote(embedded("login/key-only-accounts.service")) + `
` + embeddedWith("login/key-only-check.sh", keyOnlyPaths...) + "\n"
}

// keyOnlyFix is shell that installs and enables the unit (a plain symlink, restored with the
// module's files) and clears the ageing of the accounts without a password now.
var keyOnlyFix = embeddedWith("login/key-only-fix.sh", keyOnlyPaths...) + "\n"

// withKeyOnlyExemption makes a control that ages passwords also keep accounts without a password
// out of that ageing: its check fails while the exemption is missing, its fix installs it. The
// control's own check must end in its verdict (no return).
func withKeyOnlyExemption(c Control) Control {
	c.Check = keyOnlyCheck() + "{\n" + c.Check + "\n} || return 1\nreturn \"$_ko\""
	c.Fix = keyOnlyCheck() + keyOnlyFix + c.Fix
	return c
}
