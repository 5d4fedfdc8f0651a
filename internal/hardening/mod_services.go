package hardening

import (
	"fmt"
	"sort"
	"strings"
)

// ServicesOptions configures the `services` module (HCL block `services { ... }`): the servers of
// CIS section 2.1 and the clients of section 2.2 that a server image should not carry.
//
// A server package is purged when nothing else installed depends on it; when purging it would
// take other packages along (rpcbind under nfs-common, used for EFS mounts), or for packages that
// are also everyday tools (rsync) or that a team may well want on its image (web servers and
// proxies), its services are stopped and masked instead, which the benchmark accepts too. Client
// packages are purged.
type ServicesOptions struct {
	// Packages to keep although a control would purge or mask them, e.g. `["nginx", "rsync"]`.
	// Each must be one of the packages the module knows (see the control list); a control whose
	// packages are all allowed is reported as not applicable. To skip a whole control, use the
	// provisioner's `skip` option with its id instead. Default: none.
	Allow []string `mapstructure:"allow"`
}

func (o *ServicesOptions) shellParams() map[string]string {
	return map[string]string{"SERVICES_ALLOW": strings.Join(o.Allow, " ")}
}

func (o *ServicesOptions) validate() []error {
	known := map[string]bool{}
	for _, s := range serviceCatalogue {
		for _, p := range s.packages {
			known[p] = true
		}
	}
	var errs []error
	for _, p := range o.Allow {
		if !known[p] {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			errs = append(errs, fmt.Errorf("services.allow: %q is not a package this module removes (known: %s)", p, strings.Join(names, ", ")))
		}
	}
	return errs
}

// How a service's packages are dealt with.
const (
	purge = "purge" // purge the packages, or mask the units when purging would remove other packages
	mask  = "mask"  // stop and mask the units, keep the packages
)

// service is one "ensure X is not in use / not installed" recommendation.
type service struct {
	name     string   // control id suffix
	title    string   // the benchmark's title
	cisID    string   // same number in both benchmarks
	level    int      // CIS level
	packages []string // Debian/Ubuntu packages that provide it
	units    []string // systemd units to stop and mask
	strategy string   // purge or mask
}

// serviceCatalogue lists the CIS 2.1 servers, the 2.2 clients and the other "not installed" items
// of the same kind (bluetooth 3.1.3; prelink and apport are Ubuntu 1.5.4 and 1.5.5).
var serviceCatalogue = []service{
	{"autofs", "Ensure autofs services are not in use", "2.1.1", 1, []string{"autofs"}, []string{"autofs.service"}, purge},
	{"avahi", "Ensure avahi daemon services are not in use", "2.1.2", 1, []string{"avahi-daemon", "avahi-autoipd"}, []string{"avahi-daemon.socket", "avahi-daemon.service"}, purge},
	{"dhcp-server", "Ensure dhcp server services are not in use", "2.1.3", 1, []string{"isc-dhcp-server", "kea-dhcp4-server", "kea-dhcp6-server"}, []string{"isc-dhcp-server.service", "isc-dhcp-server6.service", "kea-dhcp4-server.service", "kea-dhcp6-server.service"}, purge},
	{"dns-server", "Ensure dns server services are not in use", "2.1.4", 1, []string{"bind9"}, []string{"named.service"}, purge},
	{"dnsmasq", "Ensure dnsmasq services are not in use", "2.1.5", 1, []string{"dnsmasq"}, []string{"dnsmasq.service"}, purge},
	{"ftp-server", "Ensure ftp server services are not in use", "2.1.6", 1, []string{"vsftpd"}, []string{"vsftpd.service"}, purge},
	{"ldap-server", "Ensure ldap server services are not in use", "2.1.7", 1, []string{"slapd"}, []string{"slapd.service"}, purge},
	{"mail-access-server", "Ensure message access server services are not in use", "2.1.8", 1, []string{"dovecot-imapd", "dovecot-pop3d"}, []string{"dovecot.socket", "dovecot.service"}, purge},
	{"nfs-server", "Ensure network file system services are not in use", "2.1.9", 1, []string{"nfs-kernel-server"}, []string{"nfs-server.service"}, purge},
	{"nis-server", "Ensure nis server services are not in use", "2.1.10", 1, []string{"ypserv"}, []string{"ypserv.service"}, purge},
	{"print-server", "Ensure print server services are not in use", "2.1.11", 1, []string{"cups"}, []string{"cups.socket", "cups.path", "cups.service"}, purge},
	{"rpcbind", "Ensure rpcbind services are not in use", "2.1.12", 1, []string{"rpcbind"}, []string{"rpcbind.socket", "rpcbind.service"}, purge},
	{"rsync", "Ensure rsync services are not in use", "2.1.13", 1, []string{"rsync"}, []string{"rsync.service"}, mask},
	{"samba", "Ensure samba file server services are not in use", "2.1.14", 1, []string{"samba"}, []string{"smbd.service", "nmbd.service"}, purge},
	{"snmp", "Ensure snmp services are not in use", "2.1.15", 1, []string{"snmpd"}, []string{"snmpd.service"}, purge},
	{"tftp-server", "Ensure tftp server services are not in use", "2.1.16", 1, []string{"tftpd-hpa", "atftpd"}, []string{"tftpd-hpa.service", "atftpd.service", "atftpd.socket"}, purge},
	{"web-proxy", "Ensure web proxy server services are not in use", "2.1.17", 1, []string{"squid"}, []string{"squid.service"}, mask},
	{"web-server", "Ensure web server services are not in use", "2.1.18", 1, []string{"apache2", "nginx"}, []string{"apache2.service", "nginx.service"}, mask},
	{"xinetd", "Ensure xinetd services are not in use", "2.1.19", 1, []string{"xinetd"}, []string{"xinetd.service"}, purge},
	{"x-server", "Ensure X window server services are not in use", "2.1.20", 2, []string{"xserver-common"}, nil, purge},
	{"nis-client", "Ensure NIS Client is not installed", "2.2.1", 1, []string{"nis"}, nil, purge},
	{"rsh-client", "Ensure rsh client is not installed", "2.2.2", 1, []string{"rsh-client", "rsh-redone-client"}, nil, purge},
	{"talk-client", "Ensure talk client is not installed", "2.2.3", 1, []string{"talk", "inetutils-talk"}, nil, purge},
	{"telnet-client", "Ensure telnet client is not installed", "2.2.4", 1, []string{"telnet", "inetutils-telnet"}, nil, purge},
	{"ldap-client", "Ensure ldap client is not installed", "2.2.5", 1, []string{"ldap-utils"}, nil, purge},
	{"ftp-client", "Ensure ftp client is not installed", "2.2.6", 1, []string{"ftp", "tnftp", "inetutils-ftp"}, nil, purge},
	{"bluetooth", "Ensure bluetooth services are not in use", "3.1.3", 1, []string{"bluez"}, []string{"bluetooth.service"}, purge},
}

// Ubuntu-only items (no Debian 12 recommendation).
var serviceCatalogueUbuntu = []service{
	{"prelink", "Ensure prelink is not installed", "1.5.4", 1, []string{"prelink"}, nil, purge},
	{"apport", "Ensure Automatic Error Reporting is not enabled", "1.5.5", 1, []string{"apport"}, []string{"apport.service"}, purge},
}

// serviceInstalled sets _pkgs to the control's packages that are installed (any state from
// unpacked to installed) and not allowed by services.allow.
func serviceInstalled(s service) string {
	return fmt.Sprintf(`_pkgs=""
_allowed=""
g_pkg_present %[1]s
for _p in $_g_pp; do
	case " $SERVICES_ALLOW " in
	*" $_p "*) _allowed="$_allowed $_p" ;;
	*) _pkgs="$_pkgs $_p" ;;
	esac
done`, strings.Join(s.packages, " "))
}

// serviceControl renders one service control. Compliant: none of its packages installed (but
// those kept by services.allow), or every unit of the installed ones masked and inactive (the mask
// strategy, or a purge that fell back to masking).
func serviceControl(s service, refs []Ref, osList []string) Control {
	units := strings.Join(s.units, " ")
	check := serviceInstalled(s) + fmt.Sprintf(`
if [ -n "$_allowed" ]; then g_say "kept by services.allow:$_allowed"; fi
if [ -z "$_pkgs" ]; then
	if [ -n "$_allowed" ]; then return 2; fi
	g_say "not installed: %s"
	return 0
fi
g_say "installed:$_pkgs"`, strings.Join(s.packages, " "))
	switch {
	case units == "":
		check += "\nreturn 1"
	default:
		// Installed is compliant (as in the benchmark's audit) only when no existing unit is enabled
		// or active and, for a package that should have been purged, there was a unit to look at.
		noUnit := `g_say "no service unit to run it"`
		if s.strategy == purge {
			noUnit = "_rc=1"
		}
		check += fmt.Sprintf(`
_n=0
_rc=0
_units='%s'
for _u in $_units; do
	g_unit_exists "$_u" || continue
	_n=$((_n + 1))
	_state="$(systemctl is-enabled "$_u" 2>/dev/null), $(systemctl is-active "$_u" 2>/dev/null)"
	g_say "$_u: $_state"
	case $_state in
	enabled,* | enabled-runtime,* | *", active" | *", activating" | *", reloading") _rc=1 ;;
	esac
done
if [ "$_n" -eq 0 ]; then %s; fi
return $_rc`, units, noUnit)
	}
	maskUnits := fmt.Sprintf(`_units='%s'
for _u in $_units; do
	if g_unit_exists "$_u"; then g_unit_mask "$_u" || return 1; fi
done`, units)
	var fix string
	switch {
	case s.strategy == mask:
		fix = serviceInstalled(s) + "\n" + maskUnits
	default:
		// Purge unless apt would remove more than these packages; then mask (when there are units).
		fallback := `echo "purging$_pkgs would also remove$_others: keep them with services.allow or remove them in an earlier provisioner" >&2
return 1`
		if units != "" {
			fallback = `echo "purging$_pkgs would also remove$_others: masking the services instead" >&2
` + maskUnits
		}
		fix = serviceInstalled(s) + `
# shellcheck disable=SC2086 # _pkgs is a list of package names
_others=$(apt-get -s purge $_pkgs 2>/dev/null | awk -v mine="$_pkgs " '$1 == "Purg" { p = $2; sub(/:.*/, "", p); if (index(mine, " " p " ") == 0) printf " %s", p }')
if [ -z "$_others" ]; then
	# shellcheck disable=SC2086
	g_pkg_purge $_pkgs
	return
fi
` + fallback
	}
	return Control{ID: "services." + s.name, Title: s.title, Refs: refs, Level: s.level, OS: osList, Check: check, Fix: fix}
}

func init() {
	var controls []Control
	for _, s := range serviceCatalogue {
		controls = append(controls, serviceControl(s, cisRefsSame(s.cisID), debianFamilies))
	}
	for _, s := range serviceCatalogueUbuntu {
		controls = append(controls, serviceControl(s, cisRefs(s.cisID, ""), []string{"ubuntu"}))
	}
	controls = append(controls, Control{
		ID: "services.mta-local-only", Title: "Ensure mail transfer agent is configured for local-only mode",
		Refs: cisRefsSame("2.1.21"), Level: 1, OS: debianFamilies,
		Check: mtaListeners + `
if [ -z "$_bad" ]; then g_say "no mail transfer agent listens on a non-loopback address"; return 0; fi
g_say "listening on a non-loopback address:"
printf '%s\n' "$_bad"
return 1`,
		// Postfix and Exim (Debian's default MTA) are reconfigured; another MTA needs a hand.
		Fix: embedded("services/mta-local-only-fix.sh"),
	})
	controls = append(controls, resolvedRespondersControl)
	register(Module{
		Name:        "services",
		Description: "Servers (CIS 2.1) and clients (CIS 2.2) a server image should not carry: purged, or masked where purging would take other packages along.",
		Order:       20,
		Controls:    controls,
	})
}

// mtaListeners sets _bad to the sockets listening on the mail ports (25, 465, 587) on anything
// but loopback.
var mtaListeners = embedded("services/mta-listeners.sh")

// resolvedDropIn turns off the network responders of systemd-resolved.
const resolvedDropIn = "/etc/systemd/resolved.conf.d/60-golden-hardening.conf"

// resolvedRespondersControl: systemd-resolved answers LLMNR (5355) and multicast DNS (5353) queries
// on every interface where its compiled default says so (Debian's answers LLMNR, Ubuntu's does
// not): a listener nothing on an EC2 instance needs, which firewall.open-ports would report. The
// drop-in turns both off; the daemon is restarted when it runs, so the listeners go at once.
var resolvedRespondersControl = Control{
	ID: "services.resolved-responders", Title: "Ensure systemd-resolved answers no LLMNR or multicast DNS queries",
	Refs: cisRefsSame("2.1.22"), Level: 1, OS: debianFamilies,
	Check: `	if ! g_unit_exists systemd-resolved.service; then g_say "not applicable: systemd-resolved is not installed"; return 2; fi
	_r=$G_WORK_DIR/resolved
	systemd-analyze cat-config systemd/resolved.conf >"$_r.conf" 2>/dev/null ||
		cat /etc/systemd/resolved.conf /etc/systemd/resolved.conf.d/*.conf >"$_r.conf" 2>/dev/null
	: >"$_r.status"
	if g_unit_active systemd-resolved.service; then resolvectl status --no-pager >"$_r.status" 2>/dev/null; fi
	awk ` + awkProgram("services/resolved-responders.awk") + ` "$_r.conf" "$_r.status"`,
	Fix: `	printf '# golden-harden: no LLMNR or multicast DNS responder on the network (CIS 2.1.22)\n[Resolve]\nLLMNR=no\nMulticastDNS=no\n' |
		g_write_file ` + resolvedDropIn + ` 0644 root:root || return 1
	systemctl try-restart systemd-resolved.service`,
}
