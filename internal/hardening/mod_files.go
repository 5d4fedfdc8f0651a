package hardening

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FilesOptions configures the `files` module (HCL block `files { ... }`): permissions of the
// account databases, and the filesystem scans for world-writable and unowned files.
//
// The two scans only report: what they find is listed as the control's evidence and the control
// fails (there is no automatic fix, a file's intended owner or mode is a human decision). Fix the
// files in an earlier provisioner, or waive `files.world-writable` / `files.unowned` with a
// justification.
type FilesOptions struct {
	// Paths the scans leave out, as `find -path` patterns (`/srv/data`, `/opt/app/*`). Default: none.
	// /proc, /sys, /run and /dev are never scanned, nor are network and in-memory filesystems.
	ScanExclude []string `mapstructure:"scan_exclude"`
	// Time limit of each scan, as a duration (`5s`, `1m`). Default `60s`: a scan takes about a
	// second on a cloud image's root filesystem, and several on a busy or cold-cached machine. A
	// scan that runs out of time fails its control and says so, rather than passing on a partial
	// look.
	ScanTimeout string `mapstructure:"scan_timeout"`
}

const filesDefaultScanTimeout = 60 * time.Second

// scanExcludePattern keeps the patterns safe to hand to find as words (no blanks, no quotes).
var scanExcludePattern = regexp.MustCompile(`^/[A-Za-z0-9._/*?+@%=,:-]*$`)

func (o *FilesOptions) shellParams() map[string]string {
	timeout := filesDefaultScanTimeout
	if d, err := time.ParseDuration(o.ScanTimeout); err == nil && o.ScanTimeout != "" {
		timeout = d
	}
	return map[string]string{
		"FILES_SCAN_EXCLUDE": strings.Join(o.ScanExclude, " "),
		"FILES_SCAN_TIMEOUT": strconv.Itoa(int((timeout + time.Second - 1) / time.Second)),
	}
}

func (o *FilesOptions) validate() []error {
	var errs []error
	for _, p := range o.ScanExclude {
		if !scanExcludePattern.MatchString(p) || p == "/" {
			errs = append(errs, fmt.Errorf("files.scan_exclude: %q must be an absolute path or find -path pattern other than /, without blanks or quotes", p))
		}
	}
	if o.ScanTimeout != "" {
		d, err := time.ParseDuration(o.ScanTimeout)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("files.scan_timeout: %q is not a duration such as \"5s\": %w", o.ScanTimeout, err))
		case d < time.Second || d > 10*time.Minute:
			errs = append(errs, fmt.Errorf("files.scan_timeout: %s must be between 1s and 10m", d))
		}
	}
	return errs
}

// ---- helpers shared by the modules of this file group (pam, login, sudo, cron, files, services,
// banners, packages, timezone, build_info) ----

// cisRefsSame returns the references of a recommendation that has the same number in both
// benchmark editions, as all of this group's recommendations do.
func cisRefsSame(id string) []Ref { return cisRefs(id, id) }

// itoaOr returns v as decimal text, or def when v is unset (0).
func itoaOr(v, def int) string {
	if v == 0 {
		v = def
	}
	return strconv.Itoa(v)
}

// intRange is one integer option and its allowed range; 0 means unset (the default applies).
type intRange struct {
	name     string
	value    int
	min, max int
}

// collectRangeErrors returns one error per set option outside its range, named "<module>.<name>".
func collectRangeErrors(module string, ranges []intRange) []error {
	var errs []error
	for _, r := range ranges {
		if r.value != 0 && (r.value < r.min || r.value > r.max) {
			errs = append(errs, fmt.Errorf("%s.%s: %d must be between %d and %d", module, r.name, r.value, r.min, r.max))
		}
	}
	return errs
}

// permGroup returns the shell that sets _grp to the wanted group, and the word to use for it.
// The group "shadow" stands for Debian's shadow group (unix_chkpwd is setgid shadow to read the
// shadow files), root where the group does not exist.
func permGroup(group string) (prelude, word string) {
	if group != "shadow" {
		return "", group
	}
	return "_grp=root\nif getent group shadow >/dev/null; then _grp='shadow'; fi\n", `$_grp`
}

// permCheck renders a check that path has no permission bit beyond maxMode (octal, e.g. "0640")
// and is owned by owner:group (see permGroup). A missing path is not applicable when missingOK,
// else not compliant. Stricter modes pass as they are.
func permCheck(path, maxMode, owner, group string, missingOK bool) string {
	missing := `g_say "` + path + ` does not exist"
	return 1`
	if missingOK {
		missing = `g_say "not applicable: ` + path + ` does not exist"
	return 2`
	}
	prelude, grp := permGroup(group)
	return fmt.Sprintf(`if [ ! -e %[1]s ]; then
	%[2]s
fi
%[6]s_st=$(stat -Lc '%%a %%U %%G' -- %[1]s) || return 1
_m=${_st%%%% *} _st=${_st#* }
_o=${_st%%%% *} _g=${_st#* }
g_say "%[1]s: mode $_m, owner $_o:$_g (wanted at most %[3]s, %[4]s:%[5]s)"
[ $((0$_m & ~%[3]s)) -eq 0 ] && [ "$_o" = %[4]s ] && [ "$_g" = "%[5]s" ]`, path, missing, maxMode, owner, grp, prelude)
}

// permFix renders the fix for permCheck: clear the bits beyond maxMode (keeping stricter ones) and
// set the owner.
func permFix(path, maxMode, owner, group string) string {
	prelude, grp := permGroup(group)
	return fmt.Sprintf(`%[5]s_m=$(stat -Lc '%%a' -- %[1]s) || return 1
g_set_mode %[1]s "$(printf '%%o' $((0$_m & %[2]s)))" "%[3]s:%[4]s"`, path, maxMode, owner, grp, prelude)
}

// permControl is a file (or directory) permission control of any module.
func permControl(id, title, cisID, path, maxMode, owner, group string, missingOK bool) Control {
	return Control{ID: id, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: permCheck(path, maxMode, owner, group, missingOK),
		Fix:   permFix(path, maxMode, owner, group)}
}

// filesScan runs, once per run, one bounded pass over the filesystems that both scan controls
// share: find over / and every other local disk filesystem, each without crossing into other
// mounts, pruning the pseudo filesystems and the user's exclusions, stopped after
// FILES_SCAN_TIMEOUT seconds. It leaves the sorted findings in $_scan.W (world-writable) and
// $_scan.U (unowned), one path a line; $_scanrc is find's (or timeout's) exit status; $_roots the
// start points.
//
// find's -nouser and -nogroup look every file's owner up in the account databases (a getpwuid
// per file: most of the scan's time). Instead, find tests the ids of /etc/passwd and /etc/group,
// which it compares as numbers, and prints the files whose owner or group is not among them
// with their ids; only those ids are looked up (getent, so accounts of other name services
// count), and the files whose owner or group none knows are the unowned ones.
const filesScan = `set -f
_scan=$G_WORK_DIR/files-scan
if [ ! -f "$_scan.rc" ]; then
	set -- /
	while read -r _dev _mnt _type _rest; do
		case $_type in
		ext2 | ext3 | ext4 | xfs | btrfs | jfs | reiserfs | f2fs | zfs | vfat | exfat) ;;
		*) continue ;;
		esac
		case $_mnt in
		/ | /proc | /proc/* | /sys | /sys/* | /run | /run/* | /dev | /dev/*) continue ;;
		esac
		case " $* " in
		*" $_mnt "*) ;;
		*) [ -d "$_mnt" ] && set -- "$@" "$_mnt" ;;
		esac
	done </proc/self/mounts
	_prune='-path /proc -o -path /sys -o -path /run -o -path /dev'
	for _x in $FILES_SCAN_EXCLUDE; do _prune="$_prune -o -path $_x"; done
	_ids=$(awk -F: '$3 ~ /^[0-9]+$/ { if (FILENAME == "/etc/passwd") u = u " -o -uid " $3; else g = g " -o -gid " $3 }
		END { print "-false" u " , -false" g }' /etc/passwd /etc/group 2>/dev/null) || _ids='-false , -false'
	_uids=${_ids%% , *}
	_gids=${_ids#* , }
	# shellcheck disable=SC2086 # _prune, _uids and _gids are lists of find words
	timeout "$FILES_SCAN_TIMEOUT" find "$@" -xdev \( $_prune \) -prune -o \
		\( \( -type f -perm -0002 -o -type d -perm -0002 ! -perm -1000 \) -printf 'W %p\n' \) , \
		\( \( ! \( $_uids \) -o ! \( $_gids \) \) -printf 'O %U %G %p\n' \) >"$_scan" 2>/dev/null
	echo "$?" >"$_scan.rc"
	echo "$*" >"$_scan.roots"
	: >"$_scan.W"
	: >"$_scan.U"
	if [ -s "$_scan" ]; then
		awk -v base="$_scan" '$1 == "W" { print substr($0, 3) >(base ".W.all"); next }
			{ print >(base ".O"); u[$2] = 1; g[$3] = 1 }
			END { for (i in u) printf " %s", i >(base ".uids"); for (i in g) printf " %s", i >(base ".gids") }' "$_scan"
		if [ -f "$_scan.O" ]; then
			read -r _u <"$_scan.uids"
			read -r _g <"$_scan.gids"
			# shellcheck disable=SC2086 # lists of ids
			{
				getent passwd $_u | awk -F: '{ print "u", $3 }'
				getent group $_g | awk -F: '{ print "g", $3 }'
			} >"$_scan.known" 2>/dev/null
			awk -v known="$_scan.known" 'FILENAME == known { k[$1, $2] = 1; next }
				!(("u", $2) in k) || !(("g", $3) in k) { sub(/^O [^ ]* [^ ]* /, ""); print }' "$_scan.known" "$_scan.O" >"$_scan.U.all"
		fi
		for _t in W U; do
			if [ -f "$_scan.$_t.all" ]; then sort -u "$_scan.$_t.all" >"$_scan.$_t"; fi
		done
	fi
fi
read -r _scanrc <"$_scan.rc"
read -r _roots <"$_scan.roots"`

// scanCheck renders the check of one kind of filesystem finding (list W or U of filesScan).
// Whatever the scan found is listed as evidence and fails the control.
func scanCheck(tag, what string) string {
	return filesScan + fmt.Sprintf(`
_list=$_scan.%[1]s
_n=0
[ -s "$_list" ] && _n=$(wc -l <"$_list")
if [ "$_scanrc" -eq 124 ]; then
	g_say "scan of $_roots stopped after ${FILES_SCAN_TIMEOUT}s (files.scan_timeout), $_n %[2]s found so far:"
elif [ "$_n" -eq 0 ]; then
	g_say "no %[2]s on $_roots"
	return 0
else
	g_say "$_n %[2]s on $_roots (fix them in an earlier provisioner, or waive this control):"
fi
head -n 50 "$_list"
[ "$_n" -le 50 ] || g_say "... and $((_n - 50)) more"
return 1`, tag, what)
}

// accountFiles are the files of CIS 7.1.1 to 7.1.10; the backups ("-") and opasswd may be absent.
var accountFiles = []struct {
	name, cisID, path, maxMode, group string
	missingOK                         bool
}{
	{"passwd", "7.1.1", "/etc/passwd", "0644", "root", false},
	{"passwd-backup", "7.1.2", "/etc/passwd-", "0644", "root", true},
	{"group", "7.1.3", "/etc/group", "0644", "root", false},
	{"group-backup", "7.1.4", "/etc/group-", "0644", "root", true},
	{"shadow", "7.1.5", "/etc/shadow", "0640", "shadow", false},
	{"shadow-backup", "7.1.6", "/etc/shadow-", "0640", "shadow", true},
	{"gshadow", "7.1.7", "/etc/gshadow", "0640", "shadow", false},
	{"gshadow-backup", "7.1.8", "/etc/gshadow-", "0640", "shadow", true},
	{"shells", "7.1.9", "/etc/shells", "0644", "root", false},
	{"opasswd", "7.1.10", "/etc/security/opasswd", "0600", "root", true},
}

func init() {
	var perms []Control
	for _, f := range accountFiles {
		perms = append(perms, permControl("files."+f.name, "Ensure permissions on "+f.path+" are configured", f.cisID,
			f.path, f.maxMode, "root", f.group, f.missingOK))
	}
	register(Module{
		Name:        "files",
		Description: "Permissions of the account databases, world-writable and unowned files, consistency of users and groups.",
		Order:       150,
		Controls: append(perms,
			Control{
				ID: "files.world-writable", Title: "Ensure world writable files and directories are secured",
				Refs: cisRefsSame("7.1.11"), Level: 1, OS: debianFamilies,
				// World-writable directories are fine with the sticky bit (/tmp); symlinks are
				// always 0777 and not matched by -type f.
				Check: scanCheck("W", "world-writable files or world-writable directories without the sticky bit"),
			},
			Control{
				ID: "files.unowned", Title: "Ensure no files or directories without an owner and a group exist",
				Refs: cisRefsSame("7.1.12"), Level: 1, OS: debianFamilies,
				Check: scanCheck("U", "files or directories without a known owner or group"),
			},
			Control{
				ID: "files.shadowed-passwords", Title: "Ensure accounts in /etc/passwd use shadowed passwords",
				Refs: cisRefsSame("7.2.1"), Level: 1, OS: debianFamilies,
				Check: embedded("files/shadowed-passwords-check.sh"),
				Fix:   embedded("files/shadowed-passwords-fix.sh"),
			},
			Control{
				ID: "files.no-empty-passwords", Title: "Ensure /etc/shadow password fields are not empty",
				Refs: cisRefsSame("7.2.2"), Level: 1, OS: debianFamilies,
				Check: embedded("files/no-empty-passwords-check.sh"),
				// Locking the password leaves key-based logins alone.
				Fix: embedded("files/no-empty-passwords-fix.sh"),
			},
			Control{
				ID: "files.passwd-groups-exist", Title: "Ensure all groups in /etc/passwd exist in /etc/group",
				Refs: cisRefsSame("7.2.3"), Level: 1, OS: debianFamilies,
				Check: embedded("files/passwd-groups-exist-check.sh"),
			},
			Control{
				ID: "files.shadow-group-empty", Title: "Ensure shadow group is empty",
				Refs: cisRefsSame("7.2.4"), Level: 1, OS: debianFamilies,
				Check: embedded("files/shadow-group-empty-check.sh"),
			},
			duplicateControl("files.unique-uids", "Ensure no duplicate UIDs exist", "7.2.5", "/etc/passwd", 3, "UID"),
			duplicateControl("files.unique-gids", "Ensure no duplicate GIDs exist", "7.2.6", "/etc/group", 3, "GID"),
			duplicateControl("files.unique-user-names", "Ensure no duplicate user names exist", "7.2.7", "/etc/passwd", 1, "user name"),
			duplicateControl("files.unique-group-names", "Ensure no duplicate group names exist", "7.2.8", "/etc/group", 1, "group name"),
		),
	})
}

// duplicateControl reports values of one field that appear on more than one line of a colon file.
// Report-only: which of two accounts sharing an id is the right one is for a human to decide.
func duplicateControl(id, title, cisID, file string, field int, what string) Control {
	return Control{ID: id, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: fmt.Sprintf(`_bad=$(awk -F: '{ n[$%[2]d]++; who[$%[2]d] = who[$%[2]d] " " $1 } END { for (v in n) if (n[v] > 1) print "%[3]s " v " shared by:" who[v] }' %[1]s)
if [ -n "$_bad" ]; then printf '%%s\n' "$_bad"; return 1; fi
g_say "no duplicate %[3]s in %[1]s"`, file, field, what)}
}
