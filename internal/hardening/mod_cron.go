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
		if !unixNamePattern().MatchString(u) {
			errs = append(errs, fmt.Errorf("cron.allow_users: %q is not a valid user name", u))
		}
	}
	return errs
}

// allowFileControl manages /etc/cron.allow or /etc/at.allow for tool (not applicable when the
// tool is not installed): the allowed users, mode 0640 at most, owner root and group `group` when
// it exists (the setgid crontab program and the setuid-daemon at program must be able to read the
// file), root otherwise; the matching .deny file removed.
func allowFileControl(id, title, cisID, tool, allow, deny, group string) Control {
	vars := []string{"_allow_tool", tool, "_allow_file", allow, "_deny_file", deny, "_allow_group", group}
	return Control{ID: id, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: embeddedWith("cron/allow-check.sh", vars...),
		Fix:   embeddedWith("cron/allow-fix.sh", vars...)}
}

func init() {
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
				Check: embedded("cron/installed-check.sh"),
				Fix:   `g_pkg_install cron`,
			},
			{
				ID: "cron.enabled", Title: "Ensure cron daemon is enabled and active",
				Refs: cisRefsSame("2.4.1.1"), Level: 1, OS: debianFamilies,
				Check: embedded("cron/enabled-check.sh"),
				Fix:   embedded("cron/enabled-fix.sh"),
			},
			permControl("cron.crontab", "Ensure permissions on /etc/crontab are configured", "2.4.1.2",
				"/etc/crontab", "0600", "root", "root", true),
			cronDir("cron.hourly", "2.4.1.3"),
			cronDir("cron.daily", "2.4.1.4"),
			cronDir("cron.weekly", "2.4.1.5"),
			cronDir("cron.monthly", "2.4.1.6"),
			cronDir("cron.d", "2.4.1.7"),
			allowFileControl("cron.allow", "Ensure crontab is restricted to authorized users", "2.4.1.8",
				"crontab", "/etc/cron.allow", "/etc/cron.deny", "crontab"),
			allowFileControl("cron.at-allow", "Ensure at is restricted to authorized users", "2.4.2.1",
				"at", "/etc/at.allow", "/etc/at.deny", "daemon"),
		},
	})
}
