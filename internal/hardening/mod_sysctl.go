package hardening

import (
	"regexp"
	"sort"
	"strings"
)

// SysctlOptions configures the `sysctl` controls (HCL block `sysctl { ... }`): kernel parameters
// persisted in /etc/sysctl.d/60-golden-hardening.conf and applied live with `sysctl -w`.
//
// Inside a container kernel.* and fs.* parameters belong to the host and are read-only: when the
// file is right those controls report "in force at next boot". UFW applies its own sysctl file on
// every `ufw enable` and at boot (it turns log_martians off): the sysctl and firewall controls
// point UFW's IPT_SYSCTL at this module's file so both always agree.
type SysctlOptions struct {
	// Set when the image routes packets (NAT instance, VPN gateway, Kubernetes node): IP
	// forwarding and redirect sending (CIS 3.3.1, 3.3.2) are then left as they are unless
	// `overrides` names them. Default: false.
	Router bool `mapstructure:"router"`
	// Parameter values that replace the catalogue's, or add parameters to the same file, e.g.
	// `{ "net.ipv4.ip_forward" = "1", "net.ipv6.conf.all.accept_ra" = "1" }`. Names must match
	// `^[a-z0-9_]+(\.[a-zA-Z0-9_*-]+)+$` under kernel., fs. or net.; `*` globs are written to the
	// file for systemd-sysctl and not applied live. A control whose value is overridden says so
	// in its evidence. EC2 instances in IPv6 subnets learn their default route from router
	// advertisements: override `net.ipv6.conf.all.accept_ra` and `net.ipv6.conf.default.accept_ra`
	// to "1" there, or skip `sysctl.ipv6-router-advertisements`. Default: none.
	Overrides map[string]string `mapstructure:"overrides"`
}

// sysctlConfFile is this module's file. Its name sorts after the distribution's own files
// (10-*, 50-*) so its values win at boot.
const sysctlConfFile = "/etc/sysctl.d/60-golden-hardening.conf"

type sysctlSetting struct {
	key, value string
}

type sysctlControl struct {
	id, title      string
	level          int
	ubuntu, debian string
	routerExempt   bool // left alone when sysctl.router is set
	settings       []sysctlSetting
}

var sysctlCatalogue = []sysctlControl{
	{id: "aslr", title: "Ensure address space layout randomization is enabled", level: 1, ubuntu: "1.5.1", debian: "1.5.1",
		settings: []sysctlSetting{{"kernel.randomize_va_space", "2"}}},
	{id: "ptrace-scope", title: "Ensure ptrace_scope is restricted", level: 1, ubuntu: "1.5.2", debian: "1.5.2",
		settings: []sysctlSetting{{"kernel.yama.ptrace_scope", "1"}}},
	{id: "suid-dumpable", title: "Ensure setuid programs cannot dump core (fs.suid_dumpable = 0)", level: 1, ubuntu: "1.5.3", debian: "1.5.3",
		settings: []sysctlSetting{{"fs.suid_dumpable", "0"}}},
	// Beyond CIS: what the kernel's own hardening guidance (the Kernel Self Protection Project)
	// and common scanners (Lynis' default profile) ask of a server, with no cost to one. The
	// distributions ship weaker values (Ubuntu kptr_restrict 1, systemd protected_fifos 1,
	// unprivileged_bpf_disabled 2, which an administrator may turn back to 0).
	{id: "kernel-pointers", title: "Ensure kernel addresses are hidden from every user (kernel.kptr_restrict = 2)", level: 1,
		settings: []sysctlSetting{{"kernel.kptr_restrict", "2"}}},
	{id: "unprivileged-bpf", title: "Ensure unprivileged users cannot load BPF programs, for good (kernel.unprivileged_bpf_disabled = 1)", level: 1,
		settings: []sysctlSetting{{"kernel.unprivileged_bpf_disabled", "1"}}},
	{id: "tty-line-disciplines", title: "Ensure unprivileged users cannot load TTY line discipline modules (dev.tty.ldisc_autoload = 0)", level: 1,
		settings: []sysctlSetting{{"dev.tty.ldisc_autoload", "0"}}},
	{id: "protected-files", title: "Ensure FIFOs and regular files in world-writable sticky directories are protected", level: 1,
		settings: []sysctlSetting{{"fs.protected_fifos", "2"}, {"fs.protected_regular", "2"}}},
	{id: "ip-forward", title: "Ensure IP forwarding is disabled", level: 1, ubuntu: "3.3.1", debian: "3.3.1", routerExempt: true,
		settings: []sysctlSetting{{"net.ipv4.ip_forward", "0"}, {"net.ipv6.conf.all.forwarding", "0"}}},
	{id: "send-redirects", title: "Ensure packet redirect sending is disabled", level: 1, ubuntu: "3.3.2", debian: "3.3.2", routerExempt: true,
		settings: []sysctlSetting{{"net.ipv4.conf.all.send_redirects", "0"}, {"net.ipv4.conf.default.send_redirects", "0"}}},
	{id: "icmp-bogus-responses", title: "Ensure bogus ICMP responses are ignored", level: 1, ubuntu: "3.3.3", debian: "3.3.3",
		settings: []sysctlSetting{{"net.ipv4.icmp_ignore_bogus_error_responses", "1"}}},
	{id: "icmp-broadcasts", title: "Ensure broadcast ICMP requests are ignored", level: 1, ubuntu: "3.3.4", debian: "3.3.4",
		settings: []sysctlSetting{{"net.ipv4.icmp_echo_ignore_broadcasts", "1"}}},
	{id: "icmp-redirects", title: "Ensure ICMP redirects are not accepted", level: 1, ubuntu: "3.3.5", debian: "3.3.5",
		settings: []sysctlSetting{
			{"net.ipv4.conf.all.accept_redirects", "0"}, {"net.ipv4.conf.default.accept_redirects", "0"},
			{"net.ipv6.conf.all.accept_redirects", "0"}, {"net.ipv6.conf.default.accept_redirects", "0"},
		}},
	{id: "secure-redirects", title: "Ensure secure ICMP redirects are not accepted", level: 1, ubuntu: "3.3.6", debian: "3.3.6",
		settings: []sysctlSetting{{"net.ipv4.conf.all.secure_redirects", "0"}, {"net.ipv4.conf.default.secure_redirects", "0"}}},
	{id: "rp-filter", title: "Ensure reverse path filtering is enabled", level: 1, ubuntu: "3.3.7", debian: "3.3.7",
		settings: []sysctlSetting{{"net.ipv4.conf.all.rp_filter", "1"}, {"net.ipv4.conf.default.rp_filter", "1"}}},
	{id: "source-route", title: "Ensure source routed packets are not accepted", level: 1, ubuntu: "3.3.8", debian: "3.3.8",
		settings: []sysctlSetting{
			{"net.ipv4.conf.all.accept_source_route", "0"}, {"net.ipv4.conf.default.accept_source_route", "0"},
			{"net.ipv6.conf.all.accept_source_route", "0"}, {"net.ipv6.conf.default.accept_source_route", "0"},
		}},
	{id: "log-martians", title: "Ensure suspicious packets are logged", level: 1, ubuntu: "3.3.9", debian: "3.3.9",
		settings: []sysctlSetting{{"net.ipv4.conf.all.log_martians", "1"}, {"net.ipv4.conf.default.log_martians", "1"}}},
	{id: "tcp-syncookies", title: "Ensure TCP SYN cookies are enabled", level: 1, ubuntu: "3.3.10", debian: "3.3.10",
		settings: []sysctlSetting{{"net.ipv4.tcp_syncookies", "1"}}},
	{id: "ipv6-router-advertisements", title: "Ensure IPv6 router advertisements are not accepted", level: 1, ubuntu: "3.3.11", debian: "3.3.11",
		settings: []sysctlSetting{{"net.ipv6.conf.all.accept_ra", "0"}, {"net.ipv6.conf.default.accept_ra", "0"}}},
}

var (
	sysctlNamePattern = regexp.MustCompile(`^[a-z0-9_]+(\.[a-zA-Z0-9_*-]+)+$`)
	shellNameUnsafe   = regexp.MustCompile(`[^A-Z0-9]+`)
)

// sysctlVar is the shell parameter holding the wanted value of a catalogue key.
func sysctlVar(key string) string {
	return "SYSCTL_" + shellNameUnsafe.ReplaceAllString(strings.ToUpper(key), "_")
}

func sysctlCatalogued(key string) bool {
	for _, c := range sysctlCatalogue {
		for _, s := range c.settings {
			if s.key == key {
				return true
			}
		}
	}
	return false
}

// normalizeSysctlValue writes multi-number values ("4096 87380 6291456") the way the check
// compares them: single spaces.
func normalizeSysctlValue(v string) string {
	return strings.Join(strings.Fields(v), " ")
}

// desired returns every key this module manages with its wanted value after overrides and the
// router exemption; a router-exempt key that is not overridden is absent.
func (o *SysctlOptions) desired() map[string]string {
	out := map[string]string{}
	for _, c := range sysctlCatalogue {
		for _, s := range c.settings {
			if v, ok := o.Overrides[s.key]; ok {
				out[s.key] = normalizeSysctlValue(v)
			} else if !(o.Router && c.routerExempt) {
				out[s.key] = s.value
			}
		}
	}
	for k, v := range o.Overrides {
		out[k] = normalizeSysctlValue(v)
	}
	return out
}

func (o *SysctlOptions) shellParams() map[string]string {
	p := map[string]string{}
	for _, c := range sysctlCatalogue {
		for _, s := range c.settings {
			p[sysctlVar(s.key)] = ""
		}
	}
	desired := o.desired()
	var custom, overridden []string
	for k, v := range desired {
		if sysctlCatalogued(k) {
			p[sysctlVar(k)] = v
		} else {
			custom = append(custom, k+"="+v)
		}
	}
	for k := range o.Overrides {
		if sysctlCatalogued(k) {
			overridden = append(overridden, k)
		}
	}
	sort.Strings(custom)
	sort.Strings(overridden)
	p["SYSCTL_CUSTOM"] = strings.Join(custom, "\n")
	p["SYSCTL_OVERRIDDEN"] = strings.Join(overridden, " ")
	p["SYSCTL_ROUTER"] = boolParam(o.Router)
	return p
}

func boolParam(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (o *SysctlOptions) validate() []error {
	var errs []error
	keys := make([]string, 0, len(o.Overrides))
	for k := range o.Overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := o.Overrides[k]
		switch {
		case !sysctlNamePattern.MatchString(k):
			errs = append(errs, optionErr("sysctl.overrides", "%q is not a sysctl name (want e.g. net.ipv4.ip_forward)", k))
		case !strings.HasPrefix(k, "kernel.") && !strings.HasPrefix(k, "fs.") && !strings.HasPrefix(k, "net."):
			errs = append(errs, optionErr("sysctl.overrides", "%q: only kernel.*, fs.* and net.* parameters can be set here", k))
		}
		if strings.TrimSpace(v) == "" {
			errs = append(errs, optionErr("sysctl.overrides", "%q has an empty value", k))
		}
		if strings.ContainsAny(v, "\n\r\x00") || strings.ContainsRune(v, '=') {
			errs = append(errs, optionErr("sysctl.overrides", "the value of %q must be one line without '='", k))
		}
	}
	return errs
}

// The checks and fixes of this module hand all the reading (this module's file, the files that
// could contradict it, the running values in /proc/sys), the verdict and the evidence to one awk
// process: a module of 15 controls is checked, fixed and re-checked with a few dozen processes
// instead of several hundred. (The shell's own read cannot read /proc/sys: it reads byte by byte,
// and the kernel answers any read past offset 0 of a sysctl file with end of file.)

// sysctlAwk decides for the "key=value" lines in _want (an empty value: left alone). Inputs, all
// from the environment: _keys ("key TAB access TAB /proc/sys path" per key, access rw, ro (the
// kernel refuses writes here) or absent (no such parameter in this kernel)), _ours (this module's
// file), _files (the other files, one per line, "A path" always read, "L path" read only when its
// name sorts after ours: see sysctlFiles), _overridden (keys set by sysctl.overrides) and _op:
//
//	check: prints the evidence and exits with the check's verdict (0, 1, 2 or 3);
//	fix:   writes the wanted content of our file to _new (each key once with its value, later
//	       assignments of it commented out, missing keys appended), and prints "set key=value"
//	       for every running value that differs and can be set, and "conflict FILE:LINE: key =
//	       value" for every assignment of a managed key in the other files that contradicts ours.
//
// Keys may be written with '/' separators (as UFW's file does) and a leading '-' (systemd-sysctl's
// "ignore errors").
var sysctlAwk = embedded("sysctl/sysctl.awk")

// ufwSysctlFile is shell that sets _ufwf to the file UFW applies on every enable and at boot
// (the last IPT_SYSCTL= of /etc/default/ufw, quotes removed; empty without one).
var ufwSysctlFile = embedded("sysctl/ufw-sysctl-file.sh") + "\n"

// sysctlFiles is shell that sets _ufwf to the file UFW applies on every enable and at boot
// (IPT_SYSCTL), and _files to the configuration files whose values can beat or contradict ours
// at boot, for sysctlAwk: /etc's and UFW's ("A"), and the files of the other directories that
// /etc does not mask ("L": they count only when their name sorts after ours). Builtins only:
// it runs in every check and fix.
var sysctlFiles = ufwSysctlFile + embedded("sysctl/files.sh") + "\n"

// sysctlKeys is shell that sets _keys (see sysctlAwk) for the keys in _want: builtins only.
var sysctlKeys = embedded("sysctl/keys.sh") + "\n"

// sysctlRun is shell that runs sysctlAwk in mode op (its stdout is the caller's).
func sysctlRun(op string) string {
	return `_op=` + op + ` _ours=$_f _want=$_want _keys=$_keys _files=$_files _overridden=$SYSCTL_OVERRIDDEN \
		awk '` + sysctlAwk + `'`
}

// sysctlCheck is the shell check of a list of "key=value" lines: the file has the value, no other
// file contradicts it, and the running kernel has it. A key the kernel lacks (IPv6 disabled) is
// not applicable; a value the kernel cannot take here (read-only kernel.* in a container) is in
// force at the next boot once the file is right.
func sysctlCheck(wantLines string) string {
	return `	_f=` + sysctlConfFile + `
	_want="` + wantLines + `"
` + sysctlKeys + sysctlFiles + "\t" + sysctlRun("check")
}

// sysctlFix writes the keys into this module's file (staged: every control's fix edits the
// module's pending copy, installed once before the Finalize), leaves the running values that
// differ to the module's Finalize, which sets them all with one sysctl call, and comments out
// contradicting assignments in /etc, masks a vendor file read after ours with a copy in
// /etc/sysctl.d without them (or points UFW's IPT_SYSCTL at our file).
func sysctlFix(wantLines string) string {
	return `	_f=` + sysctlConfFile + `
	_want="` + wantLines + `"
` + sysctlKeys + sysctlFiles + `	g_stage "$_f"
	_todo=$G_WORK_DIR/sysctl.todo
	_read=$_g_sf _new=$_g_sn ` + sysctlRun("fix") + ` >"$_todo" || return 1
` + embedded("sysctl/fix-apply.sh")
}

func init() {
	var controls []Control
	for _, c := range sysctlCatalogue {
		lines := make([]string, 0, len(c.settings))
		for _, s := range c.settings {
			lines = append(lines, s.key+"=${"+sysctlVar(s.key)+"}")
		}
		want := strings.Join(lines, "\n")
		controls = append(controls, Control{
			ID:    "sysctl." + c.id,
			Title: c.title,
			Refs:  cisRefs(c.ubuntu, c.debian),
			Level: c.level,
			OS:    debianFamilies,
			Check: sysctlCheck(want),
			Fix:   sysctlFix(want),
		})
	}
	controls = append(controls, Control{
		ID:    "sysctl.custom",
		Title: "Ensure the kernel parameters added by sysctl.overrides are set",
		Level: 1,
		OS:    debianFamilies,
		Check: embedded("sysctl/custom-gate.sh") + "\n" + sysctlCheck("$SYSCTL_CUSTOM"),
		Fix:   sysctlFix("$SYSCTL_CUSTOM"),
	})
	register(Module{
		Name:        "sysctl",
		Description: "Kernel and network parameters (CIS 1.5 and 3.3) persisted in " + sysctlConfFile + " and applied live.",
		Order:       40,
		Finalize:    embedded("sysctl/finalize.sh"),
		Controls:    controls,
	})
}
