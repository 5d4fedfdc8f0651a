package hardening

import "strings"

// PAMOptions configures the `pam` module (HCL block `pam { ... }`): password quality (pwquality),
// lockout after failed logins (faillock), password history (pwhistory) and the pam_unix options.
//
// Numeric settings are bounds, as the benchmark words them: a host that is already stricter (a
// longer `minlen`, a lower `faillock_deny`) passes and is left as it is; only a weaker or missing
// setting is changed, to the value given here.
//
// Key-based SSH logins and the build user's passwordless sudo do not go through the password
// checks these settings tighten; after changing the PAM stack the module verifies that the build
// user still has passwordless sudo and rolls the module back otherwise.
type PAMOptions struct {
	// Minimum password length (pwquality `minlen`). Default 14, the benchmark's minimum.
	MinLen int `mapstructure:"minlen"`
	// Minimum number of character classes (digits, upper case, lower case, others) a new password
	// must use (pwquality `minclass`, 1 to 4). Default 4.
	MinClass int `mapstructure:"minclass"`
	// Minimum number of characters of a new password that must not be in the old one (pwquality
	// `difok`). Default 2.
	DifOK int `mapstructure:"difok"`
	// Maximum number of identical consecutive characters (pwquality `maxrepeat`). Default 3.
	MaxRepeat int `mapstructure:"maxrepeat"`
	// Maximum length of a monotonic character sequence such as `abcd` or `1234` (pwquality
	// `maxsequence`). Default 3.
	MaxSequence int `mapstructure:"maxsequence"`
	// Failed authentication attempts before pam_faillock locks the account (`deny`). Default 5.
	FaillockDeny int `mapstructure:"faillock_deny"`
	// Seconds a locked account stays locked (`unlock_time`). Default 900. The benchmark also accepts
	// 0 (locked until an administrator unlocks it), which this option does not offer: on a cloud
	// image nobody may be there to unlock it.
	FaillockUnlockTime int `mapstructure:"faillock_unlock_time"`
	// Seconds root stays locked after too many failures (`root_unlock_time`, with `even_deny_root`).
	// Default 60. Used by the Level 2 control `pam.faillock-root` only.
	FaillockRootUnlockTime int `mapstructure:"faillock_root_unlock_time"`
	// Number of previous passwords pam_pwhistory refuses to reuse (`remember`). Default 24.
	Remember int `mapstructure:"remember"`
}

const (
	pamDefaultMinLen             = 14
	pamDefaultMinClass           = 4
	pamDefaultDifOK              = 2
	pamDefaultMaxRepeat          = 3
	pamDefaultMaxSequence        = 3
	pamDefaultFaillockDeny       = 5
	pamDefaultFaillockUnlockTime = 900
	pamDefaultRootUnlockTime     = 60
	pamDefaultRemember           = 24
)

func (o *PAMOptions) shellParams() map[string]string {
	return map[string]string{
		"PAM_MINLEN":                    itoaOr(o.MinLen, pamDefaultMinLen),
		"PAM_MINCLASS":                  itoaOr(o.MinClass, pamDefaultMinClass),
		"PAM_DIFOK":                     itoaOr(o.DifOK, pamDefaultDifOK),
		"PAM_MAXREPEAT":                 itoaOr(o.MaxRepeat, pamDefaultMaxRepeat),
		"PAM_MAXSEQUENCE":               itoaOr(o.MaxSequence, pamDefaultMaxSequence),
		"PAM_FAILLOCK_DENY":             itoaOr(o.FaillockDeny, pamDefaultFaillockDeny),
		"PAM_FAILLOCK_UNLOCK_TIME":      itoaOr(o.FaillockUnlockTime, pamDefaultFaillockUnlockTime),
		"PAM_FAILLOCK_ROOT_UNLOCK_TIME": itoaOr(o.FaillockRootUnlockTime, pamDefaultRootUnlockTime),
		"PAM_REMEMBER":                  itoaOr(o.Remember, pamDefaultRemember),
	}
}

func (o *PAMOptions) validate() []error {
	return collectRangeErrors("pam", []intRange{
		{"minlen", o.MinLen, 6, 128},
		{"minclass", o.MinClass, 1, 4},
		{"difok", o.DifOK, 1, 64},
		{"maxrepeat", o.MaxRepeat, 1, 64},
		{"maxsequence", o.MaxSequence, 1, 64},
		{"faillock_deny", o.FaillockDeny, 1, 20},
		{"faillock_unlock_time", o.FaillockUnlockTime, 60, 604800},
		{"faillock_root_unlock_time", o.FaillockRootUnlockTime, 60, 604800},
		{"remember", o.Remember, 1, 400},
	})
}

// cracklibDict is the dictionary pam_pwquality's dictcheck reads (libcrack2's default path).
const cracklibDict = "/var/cache/cracklib/cracklib_dict.pwd"

// The common-* files pam-auth-update generates, and the state it keeps about them. A fix that runs
// pam-auth-update backs all of them up first, so a rollback restores a consistent PAM setup.
const pamCommonFiles = "/etc/pam.d/common-auth /etc/pam.d/common-account /etc/pam.d/common-password " +
	"/etc/pam.d/common-session /etc/pam.d/common-session-noninteractive"

// pamStateBackup backs up what pam-auth-update rewrites: the common-* files and its own state.
var pamStateBackup = embeddedWith("pam/state-backup.sh", "_pam_common_files", pamCommonFiles)

// pamAuthUpdate renders the shell that enables pam-auth-update profiles without any prompt. It
// backs up what pam-auth-update rewrites, and fails when pam-auth-update declines to touch
// locally edited common-* files (it then exits 0 and only says so on stderr).
func pamAuthUpdate(profiles string) string {
	return pamStateBackup + "\n" + embeddedWith("pam/auth-update.sh", "_pam_profiles", profiles)
}

// pamAuthUpdateLater renders a fix that backs up what pam-auth-update rewrites and leaves the
// profiles for the module's Finalize (pamFinalize) to enable, together with every other fix's:
// one pam-auth-update run (a Perl program regenerating every common-* file) instead of one per
// fix. Only for profiles whose lines no check of a later pam control depends on, since those
// run before the Finalize: the golden faillock and pwhistory profiles, whose later controls'
// fixes only ask for the same profile again. The option edits other fixes make meanwhile (nullok
// removed, yescrypt and use_authtok added) survive the regeneration: pam-auth-update carries
// local option changes on its managed lines over.
func pamAuthUpdateLater(profiles string) string {
	return pamStateBackup + "\n" + embeddedWith("pam/auth-update-defer.sh", "_pam_pending", pamPendingList, "_pam_profiles", profiles)
}

// pamPendingList is the file in the run's work directory where the fixes list the profiles the
// Finalize enables.
const pamPendingList = "pam-profiles.pending"

// pamFinalize is the pam module's Finalize: enable the profiles the fixes left for it, in one
// run, then check the build user's passwordless sudo through the new stack.
var pamFinalize = embeddedWith("pam/enable-pending.sh", "_pam_pending", pamPendingList) + "\nif [ -n \"$_pam_profiles\" ]; then\n" +
	embedded("pam/auth-update.sh") + "\ng_say \"pam-auth-update enabled $_pam_profiles\"\nfi\n" + pamBuildUserSudo

// pamProfile renders the shell that writes a pam-auth-update profile (content from printf lines).
func pamProfile(name string, lines ...string) string {
	quoted := make([]string, len(lines))
	for i, l := range lines {
		quoted[i] = `"` + l + `"`
	}
	return "printf '%s\\n' " + strings.Join(quoted, " \\\n\t") + " |\n\tg_write_file /usr/share/pam-configs/" + name + " 0644 root:root || return 1"
}

// settingAwk evaluates every active occurrence of one setting, in configuration files written
// `key = value`, `key value` or as a bare `key`, and in the arguments of a PAM module's lines
// (files under /etc/pam.d/, lines naming the module `mod`). op says what a compliant value is:
//
//	ge          number >= want                 le      number between 1 and want
//	zero_or_ge  0 or a number >= want          nonzero anything but 0 (unset is compliant)
//	flag        the bare key is present        eq      exactly want
//
// It prints every occurrence as evidence and exits 0 only when at least one occurrence exists and
// none is out of bounds, so a weaker value left anywhere is found.
var settingAwk = embedded("pam/setting.awk")

// settingCheck renders a check of one setting with settingAwk over the existing files among
// files (shell words, globs allowed). pamModule may be empty; want is a shell word. The result is
// a predicate: its exit status is the verdict, so checks can combine several with && and end with
// one (a check's last status is its result).
func settingCheck(files, pamModule, key, op, want string) string {
	return "{\n\t_st_want=\"" + want + "\"\n" + embeddedWith("pam/setting-check.sh", "_files", files, "_st_key", key, "_st_op", op,
		"_st_mod", pamModule, "_setting_awk", settingAwk) + "\n}"
}

// settingFix renders the fix for a settingCheck over configuration files plus a PAM module's
// arguments. Only what is out of bounds changes, so a stricter value elsewhere survives: each file
// among confFiles (globs allowed) that sets the key to a bad value gets the wanted one; when no
// file sets it, mainFile does; a bad argument on the module's lines in pamFile is removed (it
// would override the files; pam-auth-update keeps such removals). A flag (op "flag") is a bare
// line added to mainFile. The configuration files' edits are staged (g_stage_kv, g_stage_line):
// every fix that edits them must stage, and the module's Finalize installs them.
func settingFix(confFiles, mainFile, pamFile, pamModule, key, op, want string) string {
	if op == "flag" {
		return `g_stage_line ` + mainFile + ` ` + key
	}
	return "_st_want=\"" + want + "\"\n" + embeddedWith("pam/setting-fix.sh", "_files", confFiles, "_st_main", mainFile,
		"_st_pam", pamFile, "_st_mod", pamModule, "_st_mod_re", strings.ReplaceAll(pamModule, ".", `\.`), "_st_key", key,
		"_st_op", op, "_setting_awk", settingAwk)
}

// pwqualityControl is one pwquality setting: in /etc/security/pwquality.conf and the
// pwquality.conf.d files, and pam_pwquality's arguments in common-password.
func pwqualityControl(name, title, cisID, key, op, want string) Control {
	const confs = "/etc/security/pwquality.conf /etc/security/pwquality.conf.d/*.conf"
	return Control{
		ID:    "pam." + name,
		Title: title,
		Refs:  cisRefsSame(cisID),
		Level: 1,
		OS:    debianFamilies,
		Check: settingCheck(confs+" /etc/pam.d/common-password", "pam_pwquality.so", key, op, want),
		Fix:   settingFix(confs, "/etc/security/pwquality.conf", "/etc/pam.d/common-password", "pam_pwquality.so", key, op, want),
	}
}

const faillockFiles = "/etc/security/faillock.conf /etc/pam.d/common-auth"

// faillockControl is one /etc/security/faillock.conf setting (pam_faillock reads it since
// Linux-PAM 1.4; arguments on the pam_faillock lines in common-auth would override it).
func faillockControl(name, title, cisID string, level int, key, op, want string) Control {
	return Control{
		ID:    "pam." + name,
		Title: title,
		Refs:  cisRefsSame(cisID),
		Level: level,
		OS:    debianFamilies,
		Check: settingCheck(faillockFiles, "pam_faillock.so", key, op, want),
		Fix: settingFix("/etc/security/faillock.conf", "/etc/security/faillock.conf", "/etc/pam.d/common-auth",
			"pam_faillock.so", key, op, want),
	}
}

// pwhistoryFix writes the golden-pwhistory profile with every option the pwhistory controls want
// and enables it. Debian 12 and Ubuntu 22.04 ship no pam-auth-update profile for pam_pwhistory,
// and their Linux-PAM (1.4/1.5.2) has no pwhistory.conf: the options live on the PAM line. Same
// priority as pwquality's profile, so it lands after pam_pwquality (which supplies the new
// password that use_authtok reuses) and before pam_unix.
var pwhistoryFix = pamProfile("golden-pwhistory",
	"Name: Password history: refuse reused passwords (golden-harden)",
	"Default: yes",
	"Priority: 1024",
	"Password-Type: Primary",
	"Password:",
	"\trequisite\tpam_pwhistory.so remember=$PAM_REMEMBER enforce_for_root try_first_pass use_authtok",
	"Password-Initial:",
	"\trequisite\tpam_pwhistory.so remember=$PAM_REMEMBER enforce_for_root try_first_pass",
) + "\n" + pamAuthUpdateLater("golden-pwhistory")

func pwhistoryControl(name, title, cisID, check string) Control {
	return Control{ID: "pam." + name, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: check, Fix: pwhistoryFix}
}

// pamUnixLines renders a check over the existing common-* files among files with the awk program
// scripts/<awkFile>, which prints a finding for each bad active pam_unix line; the check fails
// when anything is printed.
func pamUnixLines(files, awkFile string) string {
	return embeddedWith("pam/unix-lines-check.sh", "_files", files, "_pam_unix_awk", embedded(awkFile))
}

// pamUnixEdit renders a fix that rewrites the pam_unix lines of each existing common-* file with
// a sed program (ERE). pam-auth-update preserves such option edits when it regenerates the files.
func pamUnixEdit(files, sedProgram string) string {
	return embeddedWith("pam/unix-edit.sh", "_files", files, "_pam_sed", sedProgram)
}

// pamBuildUserSudo is the PAM and sudo modules' Finalize: the build user (the communicator's
// user) must keep passwordless sudo through the changed PAM stack and sudoers, or the module is
// rolled back. Root runs sudo as the build user, which goes through sudo's account and session
// stacks exactly as the next provisioner will. Only checked when sudoers grants the build user
// NOPASSWD (a password-based sudo setup cannot be exercised unattended).
var pamBuildUserSudo = embedded("pam/build-user-sudo.sh")

// pamTmpdirControl: beyond CIS (Lynis' DEB-0280, Debian's securing manual). pam_tmpdir gives
// every session a private TMPDIR (/tmp/user/<uid>, mode 0700), so that programs writing there are
// out of reach of the symlink and file-guessing races of a shared /tmp. The package ships the
// pam-auth-update profile `tmpdir` and enables it when installed; the fix enables it again in
// case it was turned off. Level 2: it installs a package, which the Level 1 run's time budget
// leaves out.
var pamTmpdirControl = Control{
	ID: "pam.tmpdir", Title: "Ensure every PAM session gets a private temporary directory (pam_tmpdir)",
	Level: 2, OS: debianFamilies,
	Check: embedded("pam/tmpdir-check.sh"),
	// The package's postinst runs pam-auth-update itself: the PAM state is backed up before.
	Fix: pamStateBackup + `
g_pkg_install libpam-tmpdir || return 1
` + pamAuthUpdate("tmpdir"),
}

func init() {
	const commonAll = "/etc/pam.d/common-auth /etc/pam.d/common-account /etc/pam.d/common-password /etc/pam.d/common-session /etc/pam.d/common-session-noninteractive"
	const password = "/etc/pam.d/common-password /etc/security/pwhistory.conf"
	register(Module{
		Name:        "pam",
		Description: "Password quality, lockout after failed logins, password history and pam_unix options, through pam-auth-update profiles.",
		Order:       100,
		Finalize:    pamFinalize,
		Controls: []Control{
			packageControl("pam.modules-installed", "Ensure libpam-modules is installed", "5.3.1.2", "libpam-modules libpam-runtime"),
			{
				ID: "pam.pwquality-installed", Title: "Ensure libpam-pwquality is installed",
				Refs: cisRefsSame("5.3.1.3"), Level: 1, OS: debianFamilies,
				// cracklib-runtime builds the dictionary the (default) dictcheck reads: it is only a
				// recommendation of the library, and without the dictionary pam_pwquality refuses
				// every new password.
				Check: embeddedWith("pam/pwquality-installed-check.sh", "_cracklib_dict", cracklibDict),
				Fix:   embeddedWith("pam/pwquality-installed-fix.sh", "_cracklib_dict", cracklibDict),
			},
			pamTmpdirControl,
			{
				ID: "pam.unix-enabled", Title: "Ensure pam_unix module is enabled",
				Refs: cisRefsSame("5.3.2.1"), Level: 1, OS: debianFamilies,
				Check: embedded("pam/unix-enabled-check.sh"),
				Fix:   pamAuthUpdate("unix"),
			},
			{
				ID: "pam.faillock-enabled", Title: "Ensure pam_faillock module is enabled",
				Refs: cisRefsSame("5.3.2.2"), Level: 1, OS: debianFamilies,
				// preauth before pam_unix, authfail after it, and the account hook.
				Check: embedded("pam/faillock-enabled-check.sh"),
				// Two profiles because pam-auth-update orders a profile's lines by one priority:
				// preauth must run before pam_unix (priority 256), authfail after it. pam_unix's
				// success jumps over authfail; a failure falls into it and is counted.
				Fix: pamProfile("golden-faillock-notify",
					"Name: Refuse locked accounts before authentication, clear failures on success (golden-harden)",
					"Default: yes",
					"Priority: 1024",
					"Auth-Type: Primary",
					"Auth:",
					"\trequisite\tpam_faillock.so preauth",
					"Account-Type: Primary",
					"Account:",
					"\trequired\tpam_faillock.so",
				) + "\n" + pamProfile("golden-faillock",
					"Name: Count failed authentications and lock the account (golden-harden)",
					"Default: yes",
					"Priority: 0",
					"Auth-Type: Primary",
					"Auth:",
					"\t[default=die]\tpam_faillock.so authfail",
				) + "\n" + pamAuthUpdateLater("golden-faillock-notify golden-faillock"),
			},
			{
				ID: "pam.pwquality-enabled", Title: "Ensure pam_pwquality module is enabled",
				Refs: cisRefsSame("5.3.2.3"), Level: 1, OS: debianFamilies,
				Check: embedded("pam/pwquality-enabled-check.sh"),
				Fix:   pamAuthUpdate("pwquality"),
			},
			pwhistoryControl("pwhistory-enabled", "Ensure pam_pwhistory module is enabled", "5.3.2.4",
				embedded("pam/pwhistory-enabled-check.sh")),
			faillockControl("faillock-deny", "Ensure password failed attempts lockout is configured", "5.3.3.1.1", 1,
				"deny", "le", "$PAM_FAILLOCK_DENY"),
			faillockControl("faillock-unlock-time", "Ensure password unlock time is configured", "5.3.3.1.2", 1,
				"unlock_time", "zero_or_ge", "$PAM_FAILLOCK_UNLOCK_TIME"),
			{
				ID: "pam.faillock-root", Title: "Ensure password failed attempts lockout includes root account",
				Refs: cisRefsSame("5.3.3.1.3"), Level: 2, OS: debianFamilies,
				Check: settingCheck(faillockFiles, "pam_faillock.so", "even_deny_root", "flag", "") + " &&\n" +
					settingCheck(faillockFiles, "pam_faillock.so", "root_unlock_time", "ge", "$PAM_FAILLOCK_ROOT_UNLOCK_TIME"),
				Fix: `g_stage_line /etc/security/faillock.conf even_deny_root || return 1
` + settingFix("/etc/security/faillock.conf", "/etc/security/faillock.conf", "/etc/pam.d/common-auth",
					"pam_faillock.so", "root_unlock_time", "ge", "$PAM_FAILLOCK_ROOT_UNLOCK_TIME"),
			},
			pwqualityControl("pwquality-difok", "Ensure password number of changed characters is configured", "5.3.3.2.1",
				"difok", "ge", "$PAM_DIFOK"),
			pwqualityControl("pwquality-minlen", "Ensure minimum password length is configured", "5.3.3.2.2",
				"minlen", "ge", "$PAM_MINLEN"),
			pwqualityControl("pwquality-minclass", "Ensure password complexity is configured", "5.3.3.2.3",
				"minclass", "ge", "$PAM_MINCLASS"),
			pwqualityControl("pwquality-maxrepeat", "Ensure password same consecutive characters is configured", "5.3.3.2.4",
				"maxrepeat", "le", "$PAM_MAXREPEAT"),
			pwqualityControl("pwquality-maxsequence", "Ensure password maximum sequential characters is configured", "5.3.3.2.5",
				"maxsequence", "le", "$PAM_MAXSEQUENCE"),
			pwqualityControl("pwquality-dictcheck", "Ensure password dictionary check is enabled", "5.3.3.2.6",
				"dictcheck", "nonzero", "1"),
			pwqualityControl("pwquality-enforcing", "Ensure password quality checking is enforced", "5.3.3.2.7",
				"enforcing", "nonzero", "1"),
			pwqualityControl("pwquality-enforce-root", "Ensure password quality is enforced for the root user", "5.3.3.2.8",
				"enforce_for_root", "flag", ""),
			pwhistoryControl("pwhistory-remember", "Ensure password history remember is configured", "5.3.3.3.1",
				settingCheck(password, "pam_pwhistory.so", "remember", "ge", "$PAM_REMEMBER")),
			pwhistoryControl("pwhistory-enforce-root", "Ensure password history is enforced for the root user", "5.3.3.3.2",
				settingCheck(password, "pam_pwhistory.so", "enforce_for_root", "flag", "")),
			pwhistoryControl("pwhistory-use-authtok", "Ensure pam_pwhistory includes use_authtok", "5.3.3.3.3",
				settingCheck("/etc/pam.d/common-password", "pam_pwhistory.so", "use_authtok", "flag", "")),
			{
				ID: "pam.unix-no-nullok", Title: "Ensure pam_unix does not include nullok",
				Refs: cisRefsSame("5.3.3.4.1"), Level: 1, OS: debianFamilies,
				Check: pamUnixLines(commonAll, "pam/unix-nullok.awk"),
				Fix:   pamUnixEdit(commonAll, embedded("pam/unix-no-nullok.sed")),
			},
			{
				ID: "pam.unix-no-remember", Title: "Ensure pam_unix does not include remember",
				Refs: cisRefsSame("5.3.3.4.2"), Level: 1, OS: debianFamilies,
				Check: pamUnixLines(commonAll, "pam/unix-remember.awk"),
				Fix:   pamUnixEdit(commonAll, `/^[^#]*pam_unix\.so/ s/[[:space:]]+remember=[^[:space:]]*//g`),
			},
			{
				ID: "pam.unix-strong-hash", Title: "Ensure pam_unix includes a strong password hashing algorithm",
				Refs: cisRefsSame("5.3.3.4.3"), Level: 1, OS: debianFamilies,
				Check: pamUnixLines("/etc/pam.d/common-password", "pam/unix-strong-hash.awk"),
				// yescrypt where this pam_unix knows it (Linux-PAM >= 1.4), sha512 otherwise.
				Fix: embedded("pam/unix-strong-hash-fix.sh"),
			},
			{
				ID: "pam.unix-use-authtok", Title: "Ensure pam_unix includes use_authtok",
				Refs: cisRefsSame("5.3.3.4.4"), Level: 1, OS: debianFamilies,
				// use_authtok only makes sense when a module before pam_unix (pwquality) asked for
				// the new password; the pam.pwquality-enabled control puts one there.
				Check: pamUnixLines("/etc/pam.d/common-password", "pam/unix-use-authtok.awk"),
				Fix:   embeddedWith("pam/unix-use-authtok-fix.sh", "_pam_pending", pamPendingList),
			},
		},
	})
}
