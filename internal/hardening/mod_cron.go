package hardening

import (
	"fmt"
	"strings"
)

// CronOptions configures the `cron` module (HCL block `cron { ... }`): who may schedule jobs with
// crontab and at, on top of the permission controls on cron's own files and directories. Controls
// for cron apply where cron is installed, those for at where at is installed; elsewhere they are
// reported as not applicable.
type CronOptions struct {
	// Users allowed to use crontab and at, one per line in /etc/cron.allow and /etc/at.allow (any
	// other user is refused; /etc/cron.deny and /etc/at.deny are removed). Default `["root"]`.
	AllowUsers []string `mapstructure:"allow_users"`
}

func (o *CronOptions) shellParams() map[string]string {
	users := o.AllowUsers
	if len(users) == 0 {
		users = []string{"root"}
	}
	return map[string]string{"CRON_ALLOW_USERS": strings.Join(users, " ")}
}

func (o *CronOptions) validate() []error {
	var errs []error
	for _, u := range o.AllowUsers {
		if !unixNamePattern.MatchString(u) {
			errs = append(errs, fmt.Errorf("cron.allow_users: %q is not a valid user name", u))
		}
	}
	return errs
}

// allowFileControl manages /etc/cron.allow or /etc/at.allow: the allowed users, mode 0640 at most,
// owner root and group `group` when it exists (the setgid crontab program and the setuid-daemon
// at program must be able to read the file), root otherwise; the matching .deny file removed.
func allowFileControl(id, title, cisID, applies, tool, allow, deny, group string) Control {
	grp := fmt.Sprintf(`_grp=root
if getent group %s >/dev/null; then _grp='%s'; fi`, group, group)
	return Control{ID: id, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: fmt.Sprintf(`if ! %[1]s; then g_say "not applicable: %[2]s is not installed"; return 2; fi
%[3]s
_rc=0
# One user a line; the names are validated, so no glob and no blank but the separators.
_want=""
for _u in $CRON_ALLOW_USERS; do
	_want="$_want$_u
"
done
if [ ! -f %[4]s ]; then
	g_say "%[4]s does not exist"
	_rc=1
else
	_st=$(stat -c '%%a %%U %%G' %[4]s) || return 1
	_m=${_st%%%% *} _st=${_st#* }
	_o=${_st%%%% *} _g=${_st#* }
	_same=0
	g_file_is %[4]s "$_want" && _same=1
	set -f
	# shellcheck disable=SC2086 # the file's lines, as words
	set -- $_g_fi
	set +f
	g_say "%[4]s: mode $_m, owner $_o:$_g, users: $*"
	if [ $((0$_m & ~0640)) -ne 0 ] || [ "$_o" != root ] || [ "$_g" != "$_grp" ]; then _rc=1; fi
	if [ "$_same" -eq 0 ]; then g_say "wanted users: $CRON_ALLOW_USERS"; _rc=1; fi
fi
if [ -e %[5]s ]; then g_say "%[5]s exists"; _rc=1; fi
return $_rc`, applies, tool, grp, allow, deny),
		Fix: grp + fmt.Sprintf(`
printf '%%s\n' "$CRON_ALLOW_USERS" | tr ' ' '\n' | g_write_file %[1]s 0640 "root:$_grp" || return 1
if [ -e %[2]s ]; then
	g_backup %[2]s || return 1
	rm -f %[2]s
fi`, allow, deny)}
}

func init() {
	const cronInstalled = "{ g_pkg_installed cron || g_pkg_installed cronie || g_pkg_installed systemd-cron; }"
	cronDir := func(name, cisID string) Control {
		return permControl("cron."+strings.TrimPrefix(name, "cron."), "Ensure permissions on /etc/"+name+" are configured", cisID,
			"/etc/"+name, "0700", "root", "root", true)
	}
	register(Module{
		Name:        "cron",
		Description: "cron installed and running, its files and directories private to root, crontab and at restricted to allowed users.",
		Order:       130,
		Controls: []Control{
			{
				// CIS scopes its cron items to systems that have cron; the SCAP Security Guide
				// (package_cron_installed, service_cron_enabled) asks for cron itself: without it
				// the jobs packages drop into /etc/cron.* never run, silently, and the access
				// controls below have nothing to restrict.
				ID: "cron.installed", Title: "Ensure a cron daemon is installed",
				Level: 1, OS: debianFamilies,
				Check: `if ` + cronInstalled + `; then g_say "a cron daemon is installed"; return 0; fi
g_say "no cron daemon (cron, cronie or systemd-cron) is installed"
return 1`,
				Fix: `g_pkg_install cron`,
			},
			{
				ID: "cron.enabled", Title: "Ensure cron daemon is enabled and active",
				Refs: cisRefsSame("2.4.1.1"), Level: 1, OS: debianFamilies,
				Check: `if ! ` + cronInstalled + `; then g_say "not applicable: cron is not installed"; return 2; fi
_unit=cron
g_unit_exists cron.service || _unit=crond
if g_unit_enabled "$_unit" && g_unit_active "$_unit"; then g_say "$_unit is enabled and active"; return 0; fi
g_say "$_unit: enabled $(systemctl is-enabled "$_unit" 2>&1), active $(systemctl is-active "$_unit" 2>&1)"
return 1`,
				Fix: embedded("cron/enabled-fix.sh"),
			},
			permControl("cron.crontab", "Ensure permissions on /etc/crontab are configured", "2.4.1.2",
				"/etc/crontab", "0600", "root", "root", true),
			cronDir("cron.hourly", "2.4.1.3"),
			cronDir("cron.daily", "2.4.1.4"),
			cronDir("cron.weekly", "2.4.1.5"),
			cronDir("cron.monthly", "2.4.1.6"),
			cronDir("cron.d", "2.4.1.7"),
			allowFileControl("cron.allow", "Ensure crontab is restricted to authorized users", "2.4.1.8",
				"g_cmd crontab", "crontab", "/etc/cron.allow", "/etc/cron.deny", "crontab"),
			allowFileControl("cron.at-allow", "Ensure at is restricted to authorized users", "2.4.2.1",
				"g_cmd at", "at", "/etc/at.allow", "/etc/at.deny", "daemon"),
		},
	})
}
