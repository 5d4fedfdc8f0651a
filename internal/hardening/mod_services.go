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

// serviceControl renders one service control. Compliant: none of its packages installed (but
// those kept by services.allow), or every unit of the installed ones masked and inactive (the mask
// strategy, or a purge that fell back to masking). Check and fix start with
// scripts/services/installed.sh: it sets _pkgs to the control's packages that are installed (any
// state from unpacked to installed) and not allowed by services.allow.
func serviceControl(s service, refs []Ref, osList []string) Control {
	purges := "0"
	if s.strategy == purge {
		purges = "1"
	}
	installed := embeddedWith("services/installed.sh", "_svc_pkgs", strings.Join(s.packages, " "),
		"_svc_units", strings.Join(s.units, " "), "_svc_purge", purges) + "\n"
	return Control{ID: "services." + s.name, Title: s.title, Refs: refs, Level: s.level, OS: osList,
		Check: installed + embedded("services/check.sh"), Fix: installed + embedded("services/fix.sh")}
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
		Check: mtaListeners + "\n" + embedded("services/mta-local-only-check.sh"),
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
	Check: embeddedWith("services/resolved-responders-check.sh", "_resolved_awk", embedded("services/resolved-responders.awk")),
	Fix:   embeddedWith("services/resolved-responders-fix.sh", "_resolved_drop_in", resolvedDropIn),
}
