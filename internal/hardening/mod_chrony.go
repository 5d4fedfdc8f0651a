package hardening

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ChronyOptions configures the `chrony` controls (HCL block `chrony { ... }`): chrony as the only
// time daemon, its sources in /etc/chrony/sources.d/golden.sources, running as _chrony.
//
// Inside a container chronyd cannot set the clock (its unit needs CAP_SYS_TIME): there the
// service control reports "in force at next boot" once chrony is installed, configured and enabled.
type ChronyOptions struct {
	// `server` lines: an address or host name followed by chrony source options. Default:
	// `["169.254.169.123 prefer iburst minpoll 4 maxpoll 4"]`, the Amazon Time Sync Service, reachable
	// from every EC2 instance without internet access. Set `servers = []` together with `pools` to
	// use pools only.
	Servers []string `mapstructure:"servers"`
	// `pool` lines, same syntax, e.g. `["time.example.internal iburst maxsources 3"]`. Default: none.
	Pools []string `mapstructure:"pools"`
	// Comment out the distribution's own `pool`/`server` lines in /etc/chrony/chrony.conf and
	// /etc/chrony/conf.d, so only the sources above are used (the seed replaced chrony.conf for the
	// same reason). Default: true.
	ReplaceDefaultSources *bool `mapstructure:"replace_default_sources"`
}

const (
	chronySources   = "/etc/chrony/sources.d/golden.sources"
	chronyConf      = "/etc/chrony/chrony.conf"
	chronySourceDir = "/etc/chrony/sources.d"
)

var (
	defaultChronyServers = []string{"169.254.169.123 prefer iburst minpoll 4 maxpoll 4"}
	// Compiled on first use, as roleARNSyntax (internal/awsconf) is: counted repetitions are costly to compile.
	chronyHostPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$`)
	})
	// Source options of chrony.conf(5): flags, and options taking one number.
	chronyFlags = map[string]bool{
		"iburst": true, "burst": true, "prefer": true, "noselect": true, "trust": true, "require": true,
		"xleave": true, "nts": true, "offline": true, "auto_offline": true, "copy": true, "extfield": false,
	}
	chronyNumeric = map[string]bool{
		"minpoll": true, "maxpoll": true, "polltarget": true, "port": true, "presend": true, "maxsources": true,
		"key": true, "minstratum": true, "version": true, "maxdelay": true, "maxdelayratio": true,
		"maxdelaydevratio": true, "maxdelayquant": true, "mindelay": true, "asymmetry": true, "offset": true,
		"minsamples": true, "maxsamples": true, "filter": true, "certset": true, "ntsport": true,
	}
)

func (o *ChronyOptions) servers() []string {
	if o.Servers == nil {
		return defaultChronyServers
	}
	return o.Servers
}

func (o *ChronyOptions) shellParams() map[string]string {
	var lines []string
	for _, s := range o.servers() {
		lines = append(lines, "server "+strings.Join(strings.Fields(s), " "))
	}
	for _, p := range o.Pools {
		lines = append(lines, "pool "+strings.Join(strings.Fields(p), " "))
	}
	replace := o.ReplaceDefaultSources == nil || *o.ReplaceDefaultSources
	return map[string]string{
		"CHRONY_SOURCES":         strings.Join(lines, "\n"),
		"CHRONY_REPLACE_DEFAULT": boolParam(replace),
	}
}

func validateChronySource(option, line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return optionErr(option, "an entry is empty")
	}
	if net.ParseIP(f[0]) == nil && !chronyHostPattern().MatchString(f[0]) {
		return optionErr(option, "%q is not an address or host name", f[0])
	}
	for i := 1; i < len(f); i++ {
		switch {
		case chronyFlags[f[i]]:
		case chronyNumeric[f[i]]:
			if i+1 >= len(f) {
				return optionErr(option, "%q: %s needs a value", line, f[i])
			}
			if _, err := strconv.ParseFloat(f[i+1], 64); err != nil {
				return optionErr(option, "%q: %s %q is not a number", line, f[i], f[i+1])
			}
			if (f[i] == "minpoll" || f[i] == "maxpoll") && !chronyPollInRange(f[i+1]) {
				return optionErr(option, "%q: %s must be an integer from -6 to 24", line, f[i])
			}
			i++
		default:
			return optionErr(option, "%q: unknown source option %q", line, f[i])
		}
	}
	return nil
}

func chronyPollInRange(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && n >= -6 && n <= 24
}

func (o *ChronyOptions) validate() []error {
	var errs []error
	for _, s := range o.servers() {
		if err := validateChronySource("chrony.servers", s); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range o.Pools {
		if err := validateChronySource("chrony.pools", p); err != nil {
			errs = append(errs, err)
		}
	}
	if len(o.servers()) == 0 && len(o.Pools) == 0 {
		errs = append(errs, optionErr("chrony.servers", "no time source left: set servers or pools"))
	}
	return errs
}

// chronyDefaultSourcesAwk prints the active pool/server/peer lines of the files it reads.
var chronyDefaultSourcesAwk = embedded("chrony/default-sources.awk")

// chronyOtherDaemons are the time daemons that must not run next to chrony.
const chronyOtherDaemons = "ntp ntpsec openntpd"

func init() {
	register(Module{
		Name:        "chrony",
		Description: "chrony is the single time daemon, syncing from the Amazon Time Sync Service by default, running as _chrony.",
		Order:       80,
		Finalize:    embeddedWith("chrony/finalize.sh", "_chrony_conf", chronyConf),
		Controls: []Control{
			{
				ID:    "chrony.single-daemon",
				Title: "Ensure a single time synchronization daemon (chrony) is in use",
				Refs:  cisRefs("2.3.1.1", "2.3.1.1"),
				Level: 1,
				OS:    debianFamilies,
				Check: embeddedWith("chrony/single-daemon-check.sh", "_chrony_others", chronyOtherDaemons),
				Fix:   embeddedWith("chrony/single-daemon-fix.sh", "_chrony_others", chronyOtherDaemons),
			},
			{
				ID:    "chrony.sources",
				Title: "Ensure chrony is configured with authorized time servers",
				Refs:  cisRefs("2.3.3.1", "2.3.3.1"),
				Level: 1,
				OS:    debianFamilies,
				Check: embeddedWith("chrony/sources-check.sh", "_chrony_conf", chronyConf, "_chrony_sources", chronySources, "_chrony_source_dir", chronySourceDir, "_chrony_sources_awk", chronyDefaultSourcesAwk),
				Fix:   embeddedWith("chrony/sources-fix.sh", "_chrony_conf", chronyConf, "_chrony_sources", chronySources, "_chrony_source_dir", chronySourceDir, "_chrony_sources_awk", chronyDefaultSourcesAwk),
			},
			{
				ID:    "chrony.user",
				Title: "Ensure chrony is running as user _chrony",
				Refs:  cisRefs("2.3.3.2", "2.3.3.2"),
				Level: 1,
				OS:    debianFamilies,
				Check: embeddedWith("chrony/user-check.sh", "_chrony_conf", chronyConf),
				Fix:   embeddedWith("chrony/user-fix.sh", "_chrony_conf", chronyConf),
			},
			{
				ID:    "chrony.service",
				Title: "Ensure chrony is enabled and running",
				Refs:  cisRefs("2.3.3.3", "2.3.3.3"),
				Level: 1,
				OS:    debianFamilies,
				Check: embedded("chrony/service-check.sh"),
				Fix:   embedded("chrony/service-fix.sh"),
			},
		},
	})
}
