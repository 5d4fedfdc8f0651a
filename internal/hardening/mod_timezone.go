package hardening

import (
	"fmt"
	"regexp"
	"strings"
)

// TimezoneOptions configures the `timezone` module (HCL block `timezone { ... }`). The zone is set
// by writing /etc/localtime (a link into /usr/share/zoneinfo) and /etc/timezone directly, which is
// what `timedatectl set-timezone` does, but also works without a running systemd (containers,
// chroots). tzdata is installed when the zone files are missing.
type TimezoneOptions struct {
	// Time zone name from the tz database: `UTC` (default) or `Area/Location` such as
	// `Europe/Paris` or `America/Argentina/Buenos_Aires`. Whether the zone exists is checked on the
	// target, against its tzdata.
	Name string `mapstructure:"name"`
}

const timezoneDefaultName = "UTC"

// tzNamePattern is the tz database's naming rule: ASCII letters, digits, '.', '-', '_' and '+'
// in components separated by '/', no component starting with '-' or '.'.
var tzNamePattern = regexp.MustCompile(`^[A-Za-z0-9_+][A-Za-z0-9_+.-]*(/[A-Za-z0-9_+][A-Za-z0-9_+.-]*)*$`)

func (o *TimezoneOptions) shellParams() map[string]string {
	name := o.Name
	if name == "" {
		name = timezoneDefaultName
	}
	return map[string]string{"TIMEZONE_NAME": name}
}

func (o *TimezoneOptions) validate() []error {
	if o.Name == "" {
		return nil
	}
	if len(o.Name) > 64 || !tzNamePattern.MatchString(o.Name) || strings.Contains(o.Name, "..") {
		return []error{fmt.Errorf("timezone.name: %q is not a time zone name such as UTC or Europe/Paris", o.Name)}
	}
	return nil
}

func init() {
	register(Module{
		Name:        "timezone",
		Description: "The system time zone (UTC by default), set without needing a running systemd.",
		Order:       15,
		Controls: []Control{
			{
				ID: "timezone.zone", Title: "Ensure the system time zone is set", Level: 1, OS: debianFamilies,
				// UTC and Etc/UTC are the same zone: compare where the names resolve to.
				Check: `_zone=/usr/share/zoneinfo/$TIMEZONE_NAME
if [ ! -f "$_zone" ]; then g_say "no zone file $_zone (tzdata missing, or an unknown zone)"; return 1; fi
_want=$(readlink -f "$_zone")
_rc=0
if [ "$(readlink -f /etc/localtime 2>/dev/null)" = "$_want" ]; then
	g_say "/etc/localtime -> $(readlink /etc/localtime)"
else
	g_say "/etc/localtime is $(readlink /etc/localtime 2>/dev/null || echo 'not a link'), wanted $TIMEZONE_NAME"
	_rc=1
fi
_cur=$(cat /etc/timezone 2>/dev/null)
if [ -n "$_cur" ] && [ "$(readlink -f "/usr/share/zoneinfo/$_cur" 2>/dev/null)" = "$_want" ]; then
	g_say "/etc/timezone: $_cur"
else
	g_say "/etc/timezone: ${_cur:-missing}, wanted $TIMEZONE_NAME"
	_rc=1
fi
return $_rc`,
				Fix: `if [ ! -f "/usr/share/zoneinfo/$TIMEZONE_NAME" ]; then
	g_pkg_install tzdata || return 1
	if [ ! -f "/usr/share/zoneinfo/$TIMEZONE_NAME" ]; then echo "unknown time zone $TIMEZONE_NAME" >&2; return 1; fi
fi
_want=$(readlink -f "/usr/share/zoneinfo/$TIMEZONE_NAME")
if [ "$(readlink -f /etc/localtime 2>/dev/null)" != "$_want" ]; then
	g_backup /etc/localtime || return 1
	ln -sfn "/usr/share/zoneinfo/$TIMEZONE_NAME" /etc/localtime.golden-new &&
		mv -f /etc/localtime.golden-new /etc/localtime || return 1
fi
_cur=$(cat /etc/timezone 2>/dev/null)
if [ -n "$_cur" ] && [ "$(readlink -f "/usr/share/zoneinfo/$_cur" 2>/dev/null)" = "$_want" ]; then return 0; fi
printf '%s\n' "$TIMEZONE_NAME" | g_write_file /etc/timezone 0644 root:root`,
			},
		},
	})
}
