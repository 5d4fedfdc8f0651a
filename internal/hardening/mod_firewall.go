package hardening

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// FirewallOptions configures the `firewall` controls (HCL block `firewall { ... }`): UFW on
// Debian and Ubuntu. The build's SSH port is always allowed first, every allow rule exists
// before the default policy denies anything, and UFW is enabled last, so no new SSH connection
// is ever refused during or after the build.
type FirewallOptions struct {
	// Set to false to leave the firewall alone (every firewall control reports skipped), e.g. when
	// security groups are the only filter. Default: true.
	Enabled *bool `mapstructure:"enabled"`
	// Incoming traffic to allow, one rule per entry: "PORT/PROTO" (`"443/tcp"`), a port range
	// "FIRST-LAST/PROTO" (`"60000-61000/udp"`), "PORT" for both TCP and UDP, or any of those from
	// one source network only: "CIDR:PORT/PROTO" (`"10.0.0.0/8:8080/tcp"`,
	// `"2001:db8::/32:443/tcp"`; the last colon separates the port). The build's SSH port is
	// always allowed, before anything else, whatever this list says. Default: none.
	Allow []string `mapstructure:"allow"`
	// Policy for outgoing traffic: "allow" or "deny". CIS 4.1.7 (Debian 4.2.7) expects "deny", but
	// then every outbound need (DNS, apt, the SSM agent, time sync, DHCP) must be listed in
	// `allow_out`; with "allow" the firewall.default-policy control says so in its evidence.
	// Default: "allow".
	DefaultOutgoing string `mapstructure:"default_outgoing"`
	// Outgoing traffic to allow when `default_outgoing = "deny"`, same syntax as `allow` with the
	// destination network instead of the source. Default: `["53", "67/udp", "80/tcp", "123/udp",
	// "443/tcp"]` (DNS, DHCP, the instance metadata service and apt over HTTP, NTP, HTTPS).
	AllowOut []string `mapstructure:"allow_out"`
}

var defaultFirewallAllowOut = []string{"53", "67/udp", "80/tcp", "123/udp", "443/tcp"}

func (o *FirewallOptions) enabled() bool { return o.Enabled == nil || *o.Enabled }

// ufwRule turns an allow entry into UFW's canonical command (as `ufw show added` prints it),
// without the leading "ufw".
func ufwRule(entry string, out bool) (string, error) {
	network := ""
	portSpec := entry
	if i := strings.LastIndex(entry, ":"); i >= 0 {
		network, portSpec = entry[:i], entry[i+1:]
		_, ipnet, err := net.ParseCIDR(network)
		if err != nil {
			ip := net.ParseIP(network)
			if ip == nil {
				return "", fmt.Errorf("%q is not an IP network (CIDR) or address", network)
			}
			network = ip.String()
		} else {
			ones, bits := ipnet.Mask.Size()
			network = ipnet.String()
			if ones == bits {
				network = ipnet.IP.String()
			}
		}
	}
	port, proto, hasProto := strings.Cut(portSpec, "/")
	if hasProto && proto != "tcp" && proto != "udp" {
		return "", fmt.Errorf("protocol %q must be tcp or udp", proto)
	}
	first, last, isRange := strings.Cut(port, "-")
	if err := checkPort(first); err != nil {
		return "", err
	}
	ufwPort := first
	if isRange {
		if err := checkPort(last); err != nil {
			return "", err
		}
		a, _ := strconv.Atoi(first)
		b, _ := strconv.Atoi(last)
		if b <= a {
			return "", fmt.Errorf("port range %s must go upwards", port)
		}
		if !hasProto {
			return "", fmt.Errorf("port range %s needs a protocol (/tcp or /udp)", port)
		}
		ufwPort = first + ":" + last
	}
	verb := "allow"
	if out {
		verb = "allow out"
	}
	if network == "" {
		if hasProto {
			return fmt.Sprintf("%s %s/%s", verb, ufwPort, proto), nil
		}
		return fmt.Sprintf("%s %s", verb, ufwPort), nil
	}
	dir := "from " + network + " to any"
	if out {
		dir = "to " + network
	}
	rule := fmt.Sprintf("%s %s port %s", verb, dir, ufwPort)
	if hasProto {
		rule += " proto " + proto
	}
	return rule, nil
}

func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != p {
		return fmt.Errorf("port %q must be a number from 1 to 65535", p)
	}
	return nil
}

func ufwRules(entries []string, out bool) []string {
	var rules []string
	for _, e := range entries {
		if r, err := ufwRule(e, out); err == nil {
			rules = append(rules, r)
		}
	}
	return rules
}

func (o *FirewallOptions) shellParams() map[string]string {
	outgoing := orDefaultString(o.DefaultOutgoing, "allow")
	allowOut := ""
	if outgoing == "deny" {
		allowOut = strings.Join(ufwRules(orDefaultList(o.AllowOut, defaultFirewallAllowOut), true), "\n")
	}
	return map[string]string{
		"FIREWALL_ENABLED":          boolParam(o.enabled()),
		"FIREWALL_ALLOW":            strings.Join(ufwRules(o.Allow, false), "\n"),
		"FIREWALL_DEFAULT_OUTGOING": outgoing,
		"FIREWALL_ALLOW_OUT":        allowOut,
	}
}

func (o *FirewallOptions) validate() []error {
	var errs []error
	for _, e := range o.Allow {
		if _, err := ufwRule(e, false); err != nil {
			errs = append(errs, optionErr("firewall.allow", "%q: %v", e, err))
		}
	}
	for _, e := range o.AllowOut {
		if _, err := ufwRule(e, true); err != nil {
			errs = append(errs, optionErr("firewall.allow_out", "%q: %v", e, err))
		}
	}
	if o.DefaultOutgoing != "" && o.DefaultOutgoing != "allow" && o.DefaultOutgoing != "deny" {
		errs = append(errs, optionErr("firewall.default_outgoing", "must be \"allow\" or \"deny\", got %q", o.DefaultOutgoing))
	}
	if len(o.AllowOut) > 0 && o.DefaultOutgoing != "deny" {
		errs = append(errs, optionErr("firewall.allow_out", "only applies with default_outgoing = \"deny\""))
	}
	return errs
}

// firewallGate starts every firewall check: nothing applies when the module is turned off or
// the OS is not of the Debian family (UFW).
var firewallGate = embedded("firewall/gate.sh") + "\n"

// firewallNeedUFW is shell for checks that need ufw installed.
var firewallNeedUFW = embedded("firewall/need-ufw.sh") + "\n"

// ufwRun, ufwRead and ufwChange are shell that the firewall checks and fixes start with
// (scripts/firewall/ufw-*.sh): ufw's state read once per module into files of the run's work
// directory, and changes batched in one Python process that uses ufw's own modules
// (scripts/firewall/ufw-batch.py), with ufw's command line doing the work whenever that fails.
// A snippet takes only the functions it calls.
var (
	ufwRun        = "\t_fw_batch_py=" + shellQuote(embedded("firewall/ufw-batch.py")) + "\n" + embedded("firewall/ufw-run.sh") + "\n"
	ufwRead       = ufwRun + embedded("firewall/ufw-read.sh") + "\n"
	ufwChange     = ufwRun + embedded("firewall/ufw-change.sh") + "\n"
	ufwReadChange = ufwRead + embedded("firewall/ufw-change.sh") + "\n"
)

// ufwRulesCheck is shell that checks that every rule in _rules (one per line) is among UFW's
// added rules; ufwRulesFix adds the missing ones in that order, in one ufw process.
var ufwRulesCheck = `	_fw_read 2>&1 || return 1
	_rules=$_rules awk '` + ufwRulesAwk + `' "$_fw_added"`

// ufwRulesAwk reads "ufw show added" and checks that every rule in _rules (environment, one per
// line) is there; it prints each and exits 1 when one is missing.
var ufwRulesAwk = embedded("firewall/ufw-rules.awk")

var ufwRulesFix = embedded("firewall/ufw-rules-fix.sh")

// ufwLoopbackRules is shell that sets _rules to the CIS loopback rules: loopback traffic is
// allowed, traffic claiming a loopback source from elsewhere is denied (IPv6 too when UFW
// manages it).
var ufwLoopbackRules = embedded("firewall/ufw-loopback-rules.sh") + "\n"

func ufwRulesControl(name, title, ubuntu, debian, rules string) Control {
	return Control{
		ID:    "firewall." + name,
		Title: title,
		Refs:  cisRefs(ubuntu, debian),
		Level: 1,
		OS:    debianFamilies,
		Check: firewallGate + firewallNeedUFW + ufwRead + rules + ufwRulesCheck,
		Fix:   ufwReadChange + rules + ufwRulesFix,
	}
}

// ufwPolicies is shell that sets _in _out _fwd to UFW's default policies (ACCEPT, DROP, REJECT)
// from /etc/default/ufw: the shell's own read, no process.
var ufwPolicies = embedded("firewall/policies.sh") + "\n"

func init() {
	controls := []Control{
		{
			ID:    "firewall.ufw-installed",
			Title: "Ensure ufw is installed",
			Refs:  cisRefs("4.1.1", "4.2.1"),
			Level: 1,
			OS:    debianFamilies,
			Check: firewallGate + embedded("firewall/ufw-installed-check.sh"),
			Fix:   `	g_pkg_install ufw`,
		},
		{
			ID:    "firewall.iptables-persistent",
			Title: "Ensure iptables-persistent is not installed with ufw",
			Refs:  cisRefs("4.1.2", "4.2.2"),
			Level: 1,
			OS:    debianFamilies,
			Check: firewallGate + embedded("firewall/iptables-persistent-check.sh"),
			Fix:   `	g_pkg_purge iptables-persistent`,
		},
		ufwRulesControl("ssh-port", "Ensure ufw allows the build's SSH port before anything is denied", "", "",
			"\t_rules=\"allow $G_SSH_PORT/tcp\"\n"),
		ufwRulesControl("loopback", "Ensure ufw loopback traffic is configured", "4.1.4", "4.2.4", ufwLoopbackRules),
		ufwRulesControl("allow-list", "Ensure ufw allows the incoming traffic listed in firewall.allow", "", "",
			embedded("firewall/allow-list-rules.sh")+"\n"),
		{
			ID:    "firewall.allow-out",
			Title: "Ensure ufw allows the outgoing traffic listed in firewall.allow_out",
			Refs:  cisRefs("4.1.5", "4.2.5"),
			Level: 1,
			OS:    debianFamilies,
			Check: firewallGate + embedded("firewall/allow-out-gate.sh") + "\n" + firewallNeedUFW + ufwRead + "\t_rules=$FIREWALL_ALLOW_OUT\n" + ufwRulesCheck,
			Fix:   ufwReadChange + "\t_rules=$FIREWALL_ALLOW_OUT\n" + ufwRulesFix,
		},
		{
			ID:    "firewall.open-ports",
			Title: "Ensure ufw firewall rules exist for all open ports",
			Refs:  cisRefs("4.1.6", "4.2.6"),
			Level: 1,
			OS:    debianFamilies,
			Check: firewallGate + firewallNeedUFW + ufwRead + `	_fw_read 2>&1 || return 1
	ss -Htulnp 2>/dev/null | awk ` + awkProgram("firewall/open-ports.awk") + ` "$_fw_added" -`,
			Fix: embedded("firewall/open-ports-fix.sh"),
		},
		{
			ID:    "firewall.default-policy",
			Title: "Ensure ufw default deny firewall policy (incoming and routed denied, outgoing per firewall.default_outgoing)",
			Refs:  cisRefs("4.1.7", "4.2.7"),
			Level: 1,
			OS:    debianFamilies,
			Check: firewallGate + firewallNeedUFW + ufwPolicies + embedded("firewall/default-policy-check.sh"),
			Fix:   ufwChange + ufwPolicies + embedded("firewall/default-policy-fix.sh"),
		},
		{
			ID:    "firewall.sysctl-agreement",
			Title: "Ensure ufw applies the sysctl module's kernel parameters instead of resetting them",
			Level: 1,
			OS:    debianFamilies,
			Check: firewallGate + embeddedWith("firewall/sysctl-agreement-gate.sh", "_sysctl_conf", sysctlConfFile) + "\n" +
				ufwSysctlFile + embedded("firewall/sysctl-agreement-check.sh"),
			Fix: `	g_set_kv /etc/default/ufw IPT_SYSCTL ` + sysctlConfFile + ` "="`,
		},
		{
			ID:    "firewall.enabled",
			Title: "Ensure ufw service is enabled and active",
			Refs:  cisRefs("4.1.3", "4.2.3"),
			Level: 1,
			OS:    debianFamilies,
			Check: firewallGate + firewallNeedUFW + ufwRead + embedded("firewall/enabled-check.sh"),
			Fix:   ufwReadChange + embeddedWith("firewall/enabled-fix.sh", "_fw_ssh_admitted_awk", embedded("firewall/ssh-admitted.awk")),
		},
	}
	register(Module{
		Name:        "firewall",
		Description: "UFW: the build's SSH port allowed first, loopback and the allow list, default deny incoming, then enabled.",
		Order:       50,
		Controls:    controls,
	})
}
