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

// permCheck renders a check that path has no permission bit beyond maxMode (octal, e.g. "0640")
// and is owned by owner:group; group shadow stands for root where the system has no shadow
// group. A missing path is not applicable when missingOK, else not compliant. Stricter modes
// pass as they are.
func permCheck(path, maxMode, owner, group string, missingOK bool) string {
	missing := "0"
	if missingOK {
		missing = "1"
	}
	return embeddedWith("files/perm-check.sh", "_perm_path", path, "_perm_max", maxMode, "_perm_owner", owner,
		"_perm_group", group, "_perm_missing_ok", missing)
}

// permFix renders the fix for permCheck: clear the bits beyond maxMode (keeping stricter ones) and
// set the owner.
func permFix(path, maxMode, owner, group string) string {
	return embeddedWith("files/perm-fix.sh", "_perm_path", path, "_perm_max", maxMode, "_perm_owner", owner,
		"_perm_group", group)
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
var filesScan = embedded("files/scan.sh")

// scanCheck renders the check of one kind of filesystem finding (list W or U of filesScan).
// Whatever the scan found is listed as evidence and fails the control.
func scanCheck(tag, what string) string {
	return filesScan + "\n" + embeddedWith("files/scan-check.sh", "_scan_tag", tag, "_scan_what", what)
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
