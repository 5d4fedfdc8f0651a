package hardening

import (
	"fmt"
	"strings"
)

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
const pamStateBackup = `for _f in ` + pamCommonFiles + ` /var/lib/pam/auth /var/lib/pam/account /var/lib/pam/password /var/lib/pam/session /var/lib/pam/session-noninteractive /var/lib/pam/seen /var/cache/debconf/config.dat; do
	g_backup "$_f"
done`

// pamAuthUpdate renders the shell that enables pam-auth-update profiles without any prompt. It
// backs up what pam-auth-update rewrites, and fails when pam-auth-update declines to touch
// locally edited common-* files (it then exits 0 and only says so on stderr).
func pamAuthUpdate(profiles string) string {
	return pamStateBackup + `
_pam_out=$(DEBIAN_FRONTEND=noninteractive pam-auth-update --enable ` + profiles + ` 2>&1) || { printf '%s\n' "$_pam_out" >&2; return 1; }
case $_pam_out in
*"not updating"*) printf 'pam-auth-update refused: %s\n' "$_pam_out" >&2; return 1 ;;
esac`
}

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
const settingAwk = `function verdict(v) {
	if (op == "ge") return v ~ /^[0-9]+$/ && v + 0 >= want + 0
	if (op == "le") return v ~ /^[0-9]+$/ && v + 0 >= 1 && v + 0 <= want + 0
	if (op == "zero_or_ge") return v ~ /^[0-9]+$/ && (v + 0 == 0 || v + 0 >= want + 0)
	if (op == "nonzero") return v != "0"
	if (op == "eq") return v == want
	return op == "flag"
}
function note(v) {
	seen = 1
	if (verdict(v)) good = good FILENAME ": " key " " v "\n"
	else bad = bad FILENAME ": " key " " v " (wanted " op " " want ")\n"
}
{ sub(/#.*/, "") }
FILENAME ~ /^\/etc\/pam\.d\// {
	if (mod == "" || index($0, mod) == 0) next
	for (i = 1; i <= NF; i++) {
		if ($i == key) note("")
		else if (index($i, key "=") == 1) note(substr($i, length(key) + 2))
	}
	next
}
$1 == key || index($1, key "=") == 1 {
	v = $0
	sub("^[ \t]*" key "[ \t]*", "", v)
	sub(/^=[ \t]*/, "", v)
	sub(/[ \t]+$/, "", v)
	note(v)
}
END {
	printf "%s%s", good, bad
	if (bad != "") exit 1
	if (seen) exit 0
	if (op == "nonzero") { print key ": not set (enabled by default)"; exit 0 }
	print key ": not set"
	exit 1
}`

// settingCheck renders a check of one setting with settingAwk over the existing files among
// files (shell words, globs allowed). pamModule may be empty; want is a shell word. The result is
// a predicate: its exit status is the verdict, so checks can combine several with && and end with
// one (a check's last status is its result).
func settingCheck(files, pamModule, key, op, want string) string {
	return fmt.Sprintf(`{
	set --
	_files='%s'
	for _f in $_files; do
		if [ -f "$_f" ]; then set -- "$@" "$_f"; fi
	done
	if [ $# -eq 0 ]; then
		g_say "no file to read %s from: %s"
		false
	elif awk -v key=%s -v op=%s -v want="%s" -v mod=%s '%s' "$@"; then
		true
	else
		false
	fi
}`, files, key, files, key, op, want, pamModule, settingAwk)
}

// pamStripArg renders the shell that removes `key=value` (and a bare `key`) from the arguments of
// a PAM module's lines in one common-* file. Arguments on the PAM line override the module's
// configuration file, so a weaker one left there would defeat the fix. pam-auth-update keeps such
// local option removals when it regenerates the file.
func pamStripArg(file, module, key string) string {
	return fmt.Sprintf(`if [ -f %[1]s ]; then
	sed -E '/^[^#]*%[2]s/ s/[[:space:]]+%[3]s(=[^[:space:]]*)?([[:space:]]|$)/\2/g' %[1]s |
		g_write_file %[1]s 0644 root:root || return 1
fi`, file, strings.ReplaceAll(module, ".", `\.`), key)
}

// settingFix renders the fix for a settingCheck over configuration files plus a PAM module's
// arguments. Only what is out of bounds changes, so a stricter value elsewhere survives: each file
// among confFiles (globs allowed) that sets the key to a bad value gets the wanted one; when no
// file sets it, mainFile does; a bad argument on the module's lines in pamFile is removed (it
// would override the files; pam-auth-update keeps such removals). A flag (op "flag") is a bare
// line added to mainFile.
func settingFix(confFiles, mainFile, pamFile, pamModule, key, op, want string) string {
	if op == "flag" {
		return `g_ensure_line ` + mainFile + ` ` + key
	}
	return fmt.Sprintf(`_found=0
_files='%[1]s'
for _f in $_files; do
	[ -f "$_f" ] || continue
	grep -Eq '^[[:space:]]*%[3]s([[:space:]]|=|$)' "$_f" || continue
	_found=1
	if awk -v key=%[3]s -v op=%[4]s -v want="%[5]s" -v mod= '%[6]s' "$_f" >/dev/null; then continue; fi
	g_set_kv "$_f" %[3]s "%[5]s" ' = ' || return 1
done
if [ "$_found" -eq 0 ]; then g_set_kv %[2]s %[3]s "%[5]s" ' = ' || return 1; fi
if ! awk -v key=%[3]s -v op=%[4]s -v want="%[5]s" -v mod=%[8]s '%[6]s' %[7]s >/dev/null; then
	%[9]s
fi`, confFiles, mainFile, key, op, want, settingAwk, pamFile, pamModule,
		strings.ReplaceAll(pamStripArg(pamFile, pamModule, key), "\n", "\n\t"))
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
) + "\n" + pamAuthUpdate("golden-pwhistory")

func pwhistoryControl(name, title, cisID, check string) Control {
	return Control{ID: "pam." + name, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: check, Fix: pwhistoryFix}
}

// pamUnixLines renders a check over the active pam_unix lines of the existing common-* files
// among files: awk gets each such line as $0 and prints a finding for a bad one; the check fails
// when anything is printed.
func pamUnixLines(files, awkBody string) string {
	return fmt.Sprintf(`set --
_files='%s'
for _f in $_files; do
	if [ -f "$_f" ]; then set -- "$@" "$_f"; fi
done
if [ $# -eq 0 ]; then g_say "none of %s exists"; return 1; fi
_pam_bad=$(awk '/^[[:space:]]*#/ { next } /pam_unix\.so/ { %s }' "$@")
if [ -n "$_pam_bad" ]; then printf '%%s\n' "$_pam_bad"; return 1; fi
g_say "pam_unix lines in $*: compliant"`, files, files, awkBody)
}

// pamUnixEdit renders a fix that rewrites the pam_unix lines of each existing common-* file with
// a sed program (ERE). pam-auth-update preserves such option edits when it regenerates the files.
func pamUnixEdit(files, sedProgram string) string {
	return fmt.Sprintf(`_files='%s'
for _f in $_files; do
	[ -f "$_f" ] || continue
	sed -E '%s' "$_f" | g_write_file "$_f" 0644 root:root || return 1
done`, files, sedProgram)
}

// pamBuildUserSudo is the PAM and sudo modules' Finalize: the build user (the communicator's
// user) must keep passwordless sudo through the changed PAM stack and sudoers, or the module is
// rolled back. Root runs sudo as the build user, which goes through sudo's account and session
// stacks exactly as the next provisioner will. Only checked when sudoers grants the build user
// NOPASSWD (a password-based sudo setup cannot be exercised unattended).
var pamBuildUserSudo = embedded("pam/pam-build-user-sudo.sh")

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
		Finalize:    pamBuildUserSudo,
		Controls: []Control{
			packageControl("pam.modules-installed", "Ensure libpam-modules is installed", "5.3.1.2", "libpam-modules libpam-runtime"),
			{
				ID: "pam.pwquality-installed", Title: "Ensure libpam-pwquality is installed",
				Refs: cisRefsSame("5.3.1.3"), Level: 1, OS: debianFamilies,
				// cracklib-runtime builds the dictionary the (default) dictcheck reads: it is only a
				// recommendation of the library, and without the dictionary pam_pwquality refuses
				// every new password.
				Check: `if g_pkg_installed libpam-pwquality cracklib-runtime && [ -f ` + cracklibDict + ` ]; then
	g_say "libpam-pwquality and cracklib-runtime are installed, ` + cracklibDict + ` exists"
	return 0
fi
g_say "libpam-pwquality or cracklib-runtime is not installed, or ` + cracklibDict + ` is missing"
return 1`,
				Fix: `g_pkg_install libpam-pwquality cracklib-runtime || return 1
if [ ! -f ` + cracklibDict + ` ]; then update-cracklib; fi`,
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
				) + "\n" + pamAuthUpdate("golden-faillock-notify golden-faillock"),
			},
			{
				ID: "pam.pwquality-enabled", Title: "Ensure pam_pwquality module is enabled",
				Refs: cisRefsSame("5.3.2.3"), Level: 1, OS: debianFamilies,
				Check: embedded("pam/pwquality-enabled-check.sh"),
				Fix:   pamAuthUpdate("pwquality"),
			},
			pwhistoryControl("pwhistory-enabled", "Ensure pam_pwhistory module is enabled", "5.3.2.4",
				`if grep -Eq '^[[:space:]]*password.*pam_pwhistory\.so' /etc/pam.d/common-password; then g_say "common-password: pam_pwhistory.so"; return 0; fi
g_say "common-password: no pam_pwhistory.so"
return 1`),
			faillockControl("faillock-deny", "Ensure password failed attempts lockout is configured", "5.3.3.1.1", 1,
				"deny", "le", "$PAM_FAILLOCK_DENY"),
			faillockControl("faillock-unlock-time", "Ensure password unlock time is configured", "5.3.3.1.2", 1,
				"unlock_time", "zero_or_ge", "$PAM_FAILLOCK_UNLOCK_TIME"),
			{
				ID: "pam.faillock-root", Title: "Ensure password failed attempts lockout includes root account",
				Refs: cisRefsSame("5.3.3.1.3"), Level: 2, OS: debianFamilies,
				Check: settingCheck(faillockFiles, "pam_faillock.so", "even_deny_root", "flag", "") + " &&\n" +
					settingCheck(faillockFiles, "pam_faillock.so", "root_unlock_time", "ge", "$PAM_FAILLOCK_ROOT_UNLOCK_TIME"),
				Fix: `g_ensure_line /etc/security/faillock.conf even_deny_root || return 1
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
				Check: pamUnixLines(commonAll, `for (i = 1; i <= NF; i++) if ($i ~ /^nullok/) { print FILENAME ": " $0; next }`),
				Fix: pamUnixEdit(commonAll, `/^[^#]*pam_unix\.so/ {
:a
s/[[:space:]]+nullok(_secure)?([[:space:]]|$)/\2/
ta
}`),
			},
			{
				ID: "pam.unix-no-remember", Title: "Ensure pam_unix does not include remember",
				Refs: cisRefsSame("5.3.3.4.2"), Level: 1, OS: debianFamilies,
				Check: pamUnixLines(commonAll, `for (i = 1; i <= NF; i++) if ($i ~ /^remember=/) { print FILENAME ": " $0; next }`),
				Fix:   pamUnixEdit(commonAll, `/^[^#]*pam_unix\.so/ s/[[:space:]]+remember=[^[:space:]]*//g`),
			},
			{
				ID: "pam.unix-strong-hash", Title: "Ensure pam_unix includes a strong password hashing algorithm",
				Refs: cisRefsSame("5.3.3.4.3"), Level: 1, OS: debianFamilies,
				Check: pamUnixLines("/etc/pam.d/common-password", `if ($1 != "password") next
strong = 0; weak = ""
for (i = 1; i <= NF; i++) { if ($i == "sha512" || $i == "yescrypt") strong = 1; if ($i == "md5" || $i == "bigcrypt" || $i == "sha256" || $i == "blowfish") weak = $i }
if (!strong || weak != "") print FILENAME ": " $0`),
				// yescrypt where this pam_unix knows it (Linux-PAM >= 1.4), sha512 otherwise.
				Fix: embedded("pam/unix-strong-hash-fix.sh"),
			},
			{
				ID: "pam.unix-use-authtok", Title: "Ensure pam_unix includes use_authtok",
				Refs: cisRefsSame("5.3.3.4.4"), Level: 1, OS: debianFamilies,
				// use_authtok only makes sense when a module before pam_unix (pwquality) asked for
				// the new password; the pam.pwquality-enabled control puts one there.
				Check: pamUnixLines("/etc/pam.d/common-password", `if ($1 != "password") next
for (i = 1; i <= NF; i++) if ($i == "use_authtok") next
print FILENAME ": " $0`),
				Fix: embedded("pam/unix-use-authtok-fix.sh"),
			},
		},
	})
}
