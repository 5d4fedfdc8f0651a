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
				Check: embedded("timezone/zone-check.sh"),
				Fix:   embedded("timezone/zone-fix.sh"),
			},
		},
	})
}
