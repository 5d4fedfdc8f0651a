package hardening

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// Fail2banOptions configures the `fail2ban` controls (HCL block `fail2ban { ... }`): an sshd jail
// in /etc/fail2ban/jail.d/golden-sshd.local that reads sshd's messages from the systemd journal
// (Debian 12 has no rsyslog and no /var/log/auth.log, so the packaged jail never starts) and
// watches the build's SSH port. The controls check that the jail really runs with these values.
type Fail2banOptions struct {
	// How long an address stays banned, as a duration ("1h", "30m", "90s"); at least 1s.
	// Default: "1h" (the seed's 3600 s).
	Bantime string `mapstructure:"bantime"`
	// Window in which failures are counted, as a duration. Default: "10m" (the seed's 600 s).
	Findtime string `mapstructure:"findtime"`
	// Failures within findtime that ban the address: 1 to 100. Default: 3 (the seed's value).
	Maxretry int `mapstructure:"maxretry"`
	// Addresses or networks never banned, on top of 127.0.0.1/8 and ::1, e.g. the CI runners'
	// network `["10.20.0.0/16"]`. Default: none.
	Ignoreip []string `mapstructure:"ignoreip"`
}

const fail2banJail = "/etc/fail2ban/jail.d/golden-sshd.local"

// fail2banLocal is where fail2ban's documentation, the seed's playbook and scanners (Lynis)
// look for the local jail settings. fail2ban reads jail.d/*.local after it, so the drop-in
// decides; jail.local, when golden-harden writes it, states the same sshd jail. A jail.local of
// the image's own is left as it is.
const fail2banLocal = "/etc/fail2ban/jail.local"

func durationSeconds(option, v, def string) (int, error) {
	if v == "" {
		v = def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, optionErr(option, "%q is not a duration such as \"1h\" or \"10m\"", v)
	}
	if d < time.Second || d%time.Second != 0 {
		return 0, optionErr(option, "%q must be a whole number of seconds, at least 1s", v)
	}
	return int(d / time.Second), nil
}

func (o *Fail2banOptions) shellParams() map[string]string {
	ban, _ := durationSeconds("fail2ban.bantime", o.Bantime, "1h")
	find, _ := durationSeconds("fail2ban.findtime", o.Findtime, "10m")
	ignore := append([]string{"127.0.0.1/8", "::1"}, o.Ignoreip...)
	return map[string]string{
		"FAIL2BAN_BANTIME":  strconv.Itoa(ban),
		"FAIL2BAN_FINDTIME": strconv.Itoa(find),
		"FAIL2BAN_MAXRETRY": strconv.Itoa(orDefaultInt(o.Maxretry, 3)),
		"FAIL2BAN_IGNOREIP": strings.Join(ignore, " "),
	}
}

func (o *Fail2banOptions) validate() []error {
	var errs []error
	if _, err := durationSeconds("fail2ban.bantime", o.Bantime, "1h"); err != nil {
		errs = append(errs, err)
	}
	if _, err := durationSeconds("fail2ban.findtime", o.Findtime, "10m"); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateRange("fail2ban.maxretry", o.Maxretry, 1, 100, "")...)
	for _, a := range o.Ignoreip {
		if net.ParseIP(a) == nil {
			if _, _, err := net.ParseCIDR(a); err != nil {
				errs = append(errs, optionErr("fail2ban.ignoreip", "%q is not an IP address or network (CIDR)", a))
			}
		}
	}
	return errs
}

// fail2banJailContent is shell that sets _jail to the wanted jail file.
var fail2banJailContent = embeddedWith("fail2ban/jail-content.sh", "_f2b_jail", fail2banJail) + "\n"

// fail2banJailAwk reads the running fail2ban's answers about the sshd jail (each follows a
// "fail2ban> " prompt of the client's interactive mode) and checks that the sshd jail runs, reads
// the systemd journal, and has the wanted maxretry, findtime and bantime (-v maxretry=...
// findtime=... bantime=...). It prints the evidence and exits 0 when all hold. When the running
// jail reads the journal it creates the file -v journal=... (if set): the module's Finalize then
// knows, without asking the server again, that a reload only changes the jail's values.
var fail2banJailAwk = embedded("fail2ban/jail.awk")

func init() {
	register(Module{
		Name:        "fail2ban",
		Description: "fail2ban bans addresses that fail SSH authentication; the sshd jail reads the journal and must really run.",
		// Before the firewall and ssh modules, neither of which reads fail2ban's files: its
		// Finalize (Background) then waits for the server beside their work, which is the
		// longest of a baseline run (ufw's), instead of beside the short modules at the end.
		Order: 47,
		// A running sshd jail that already read the journal when it was checked
		// (fail2banJailAwk's mark) is reloaded in place: the client validates the whole
		// configuration first and leaves the server alone when it is not valid (fail2ban-client
		// -t passes values only the server rejects), and the server only changes the jail's
		// values. Anything else (no server yet, or the packaged jail on a log file, which a reload
		// restarts while its threads take up to seconds to notice) restarts the service, after
		// fail2ban-client -t: measured, that is both faster and steadier (without it, 4 of 20
		// Ubuntu 22.04 builds waited 30 to 90 s in the restart). A server that still refuses the
		// configuration stops, the wait for the jail sees it, and the module is rolled back.
		Finalize: embedded("fail2ban/finalize.sh"),
		// A restart waits for the Python server to read its jails (0.7-1.2 s of a first
		// cis-level1-server run on Debian 12), and nothing after this module reads fail2ban's
		// files or service.
		Background: true,
		Controls: []Control{
			{
				ID:    "fail2ban.installed",
				Title: "Ensure fail2ban and its journal reader (python3-systemd) are installed",
				Level: 1,
				OS:    debianFamilies,
				Check: packagesInstalledCheck("fail2ban", "python3-systemd"),
				Fix:   "\tg_pkg_install fail2ban python3-systemd",
			},
			{
				ID:    "fail2ban.sshd-jail",
				Title: "Ensure the fail2ban sshd jail is configured and running",
				Level: 1,
				OS:    debianFamilies,
				Check: fail2banJailContent + embeddedWith("fail2ban/sshd-jail-check.sh", "_f2b_jail", fail2banJail, "_f2b_local", fail2banLocal,
					"_f2b_jail_awk", fail2banJailAwk),
				Fix: fail2banJailContent + embeddedWith("fail2ban/sshd-jail-fix.sh", "_f2b_jail", fail2banJail, "_f2b_local", fail2banLocal),
			},
			{
				ID:    "fail2ban.service",
				Title: "Ensure fail2ban is enabled and active",
				Level: 1,
				OS:    debianFamilies,
				Check: embedded("fail2ban/service-check.sh"),
				// Enabled here, started by the module's Finalize once the jail is written: a
				// start now would read the packaged configuration, only to be restarted.
				Fix: `	g_unit_enable fail2ban`,
			},
		},
	})
}
