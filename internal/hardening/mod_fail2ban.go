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
const fail2banJailContent = `	_jail="# golden-harden: sshd jail. The journal backend works without rsyslog (Debian 12 has none).
[sshd]
enabled = true
backend = systemd
port = $G_SSH_PORT
maxretry = $FAIL2BAN_MAXRETRY
findtime = $FAIL2BAN_FINDTIME
bantime = $FAIL2BAN_BANTIME
ignoreip = $FAIL2BAN_IGNOREIP"
`

func init() {
	register(Module{
		Name:        "fail2ban",
		Description: "fail2ban bans addresses that fail SSH authentication; the sshd jail reads the journal and must really run.",
		Order:       70,
		Finalize: `	if ! _out=$(fail2ban-client -t 2>&1); then
		printf 'fail2ban-client -t rejected the configuration:\n%s\n' "$_out"
		return 1
	fi
	g_unit_enabled fail2ban || systemctl enable -q fail2ban || return 1
	systemctl restart fail2ban || return 1
	# The jail starts a moment after the service: wait for it, so the re-check sees it running.
	_i=0
	while [ "$_i" -lt 100 ]; do
		fail2ban-client status sshd >/dev/null 2>&1 && { echo "fail2ban restarted, jail sshd running"; return 0; }
		sleep 0.2
		_i=$((_i + 1))
	done
	echo "the sshd jail did not start within 20 s"
	journalctl -u fail2ban -n 20 --no-pager 2>/dev/null
	return 1`,
		Controls: []Control{
			{
				ID:    "fail2ban.installed",
				Title: "Ensure fail2ban and its journal reader (python3-systemd) are installed",
				Level: 1,
				OS:    debianFamilies,
				Check: `	if g_pkg_installed fail2ban python3-systemd; then
		g_say "fail2ban and python3-systemd are installed"
		return 0
	fi
	g_say "missing:$(for _p in fail2ban python3-systemd; do g_pkg_installed "$_p" || printf ' %s' "$_p"; done)"
	return 1`,
				Fix: `	g_pkg_install fail2ban python3-systemd`,
			},
			{
				ID:    "fail2ban.sshd-jail",
				Title: "Ensure the fail2ban sshd jail is configured and running",
				Level: 1,
				OS:    debianFamilies,
				Check: fail2banJailContent + `	_rc=0
	if [ "$(cat ` + fail2banJail + ` 2>/dev/null)" = "$_jail" ]; then
		g_say "` + fail2banJail + ` is as configured"
	else
		g_say "` + fail2banJail + ` differs from the configuration"
		_rc=1
	fi
	if ! g_cmd fail2ban-client || ! fail2ban-client status sshd >/dev/null 2>&1; then
		g_say "the sshd jail is not running"
		return 1
	fi
	for _kv in "maxretry:$FAIL2BAN_MAXRETRY" "findtime:$FAIL2BAN_FINDTIME" "bantime:$FAIL2BAN_BANTIME"; do
		_got=$(fail2ban-client get sshd "${_kv%%:*}" 2>/dev/null)
		g_say "jail sshd ${_kv%%:*} = $_got"
		[ "$_got" = "${_kv#*:}" ] || _rc=1
	done
	_journal=$(fail2ban-client get sshd journalmatch 2>/dev/null)
	if [ -z "$_journal" ]; then
		g_say "the sshd jail does not read the journal"
		_rc=1
	fi
	return "$_rc"`,
				Fix: fail2banJailContent + `	printf '%s\n' "$_jail" | g_write_file ` + fail2banJail + ` 0644 root:root`,
			},
			{
				ID:    "fail2ban.service",
				Title: "Ensure fail2ban is enabled and active",
				Level: 1,
				OS:    debianFamilies,
				Check: `	_rc=0
	g_unit_enabled fail2ban && g_say "fail2ban.service is enabled" || { g_say "fail2ban.service is not enabled"; _rc=1; }
	g_unit_active fail2ban && g_say "fail2ban.service is active" || { g_say "fail2ban.service is not active"; _rc=1; }
	return "$_rc"`,
				Fix: `	g_unit_enable_now fail2ban`,
			},
		},
	})
}
