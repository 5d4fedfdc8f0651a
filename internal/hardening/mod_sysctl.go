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

// sysctlConflictAwk prints every active assignment of a managed key whose value differs from
// the wanted one, as FILE:LINE: key = value. It reads the wanted "key=value" lines from the
// environment; keys may be written with '/' separators (as ufw's file does) and a leading '-'.
const sysctlConflictAwk = `BEGIN {
	n = split(ENVIRON["_want"], lines, "\n")
	for (i = 1; i <= n; i++) {
		p = index(lines[i], "=")
		if (p) want[substr(lines[i], 1, p - 1)] = substr(lines[i], p + 1)
	}
}
{
	line = $0
	sub(/^[ \t]+/, "", line)
	if (line == "" || line ~ /^[#;]/) next
	p = index(line, "=")
	if (!p) next
	k = substr(line, 1, p - 1); v = substr(line, p + 1)
	sub(/[ \t]+$/, "", k); sub(/^-/, "", k)
	s = index(k, "/"); d = index(k, ".")
	if (s && (!d || s < d)) gsub("/", ".", k)
	gsub(/^[ \t]+|[ \t]+$/, "", v); gsub(/[ \t]+/, " ", v)
	if ((k in want) && want[k] != "" && want[k] != v) print FILENAME ":" FNR ": " k " = " v
}`

// sysctlFiles is shell that sets _files to the configuration files whose values can beat or
// contradict ours at boot (other than ours): /etc's, later-sorting files of the other
// directories that /etc does not mask, and the file UFW applies on `ufw enable`.
const sysctlFiles = `	_files=""
	_ufwf=""
	if [ -f /etc/default/ufw ]; then
		_ufwf=$(sed -n 's/^[[:space:]]*IPT_SYSCTL=//p' /etc/default/ufw | tail -n 1 | tr -d '"' | tr -d "'")
		[ -f "$_ufwf" ] && _ufwf=$(readlink -f "$_ufwf")
	fi
	for _c in /etc/sysctl.conf /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf $_ufwf; do
		[ -f "$_c" ] || continue
		_r=$(readlink -f "$_c")
		[ "$_r" = "$_f" ] && continue
		case $_r in
		/etc/* | "$_ufwf") ;;
		*)
			_b=${_c##*/}
			[ -e "/etc/sysctl.d/$_b" ] && continue
			[ "$(printf '%s\n%s\n' "$_b" "${_f##*/}" | sort | head -n 1)" = "$_b" ] && continue
			;;
		esac
		case " $_files " in
		*" $_r "*) ;;
		*) _files="$_files $_r" ;;
		esac
	done
`

// sysctlCheck is the shell check of a list of "key=value" lines held in _want: the file has the
// value, no other file contradicts it, and the running kernel has it. A key the kernel lacks
// (IPv6 disabled) is not applicable; a value the kernel cannot take here (read-only kernel.* in a
// container) is in force at the next boot once the file is right.
func sysctlCheck(wantLines string) string {
	return `	_f=` + sysctlConfFile + `
	_want="` + wantLines + `"
	_rc=0
	_nextboot=0
	_managed=0
	while IFS='=' read -r _k _v; do
		[ -n "$_k" ] || continue
		if [ -z "$_v" ]; then
			g_say "$_k: left as it is (sysctl.router)"
			continue
		fi
		case " $SYSCTL_OVERRIDDEN " in
		*" $_k "*) g_say "$_k: value $_v set by sysctl.overrides" ;;
		esac
		case $_k in
		*'*'*)
			_managed=$((_managed + 1))
			if g_kv_is "$_f" "$_k" "$_v" " = "; then
				g_say "$_k = $_v in $_f (a glob: applied by systemd-sysctl at boot)"
			else
				g_say "$_f: $_k is not $_v"
				_rc=1
			fi
			continue
			;;
		esac
		_p=/proc/sys/$(printf '%s' "$_k" | tr . /)
		if [ ! -e "$_p" ]; then
			g_say "$_k: not present in this kernel"
			continue
		fi
		_managed=$((_managed + 1))
		if ! g_kv_is "$_f" "$_k" "$_v" " = "; then
			g_say "$_f: $_k is not $_v"
			_rc=1
		fi
		_live=$(tr -s '\t ' '  ' <"$_p")
		if [ "$_live" = "$_v" ]; then
			g_say "$_k = $_live"
		elif [ -w "$_p" ]; then
			g_say "$_k = $_live (want $_v)"
			_rc=1
		else
			g_say "$_k = $_live (want $_v; read-only here, $_f sets it at the next boot)"
			_nextboot=1
		fi
	done <<EOF
$_want
EOF
	if [ "$_managed" -eq 0 ]; then
		g_say "no parameter of this control applies here"
		return 2
	fi
` + sysctlFiles + `	if [ -n "$_files" ]; then
		# shellcheck disable=SC2086 # the file list is split on purpose
		_conflicts=$(_want=$_want awk '` + sysctlConflictAwk + `' $_files 2>/dev/null)
		if [ -n "$_conflicts" ]; then
			g_say "contradicting assignments:" "$_conflicts"
			_rc=1
		fi
	fi
	[ "$_rc" -eq 0 ] && [ "$_nextboot" -eq 1 ] && return 3
	return "$_rc"`
}

func sysctlFix(wantLines string) string {
	return `	_f=` + sysctlConfFile + `
	_want="` + wantLines + `"
	if [ ! -f "$_f" ]; then
		printf '# golden-harden: kernel parameters (CIS 1.5, 3.3). UFW applies this file too (IPT_SYSCTL).\n' |
			g_write_file "$_f" 0644 root:root || return 1
	fi
	_flush=0
	while IFS='=' read -r _k _v; do
		[ -n "$_k" ] && [ -n "$_v" ] || continue
		g_set_kv "$_f" "$_k" "$_v" " = " || return 1
		_p=/proc/sys/$(printf '%s' "$_k" | tr . /)
		[ -w "$_p" ] || continue
		if [ "$(tr -s '\t ' '  ' <"$_p")" != "$_v" ]; then
			sysctl -q -w "$_k=$_v" || return 1
			_flush=1
		fi
	done <<EOF
$_want
EOF
	if [ "$_flush" -eq 1 ]; then
		sysctl -q -w net.ipv4.route.flush=1 2>/dev/null
		sysctl -q -w net.ipv6.route.flush=1 2>/dev/null
	fi
` + sysctlFiles + `	[ -n "$_files" ] || return 0
	# shellcheck disable=SC2086 # the file list is split on purpose
	_want=$_want awk '` + sysctlConflictAwk + `' $_files 2>/dev/null | while IFS=: read -r _cf _cl _rest; do
		if [ "$_cf" = "$_ufwf" ]; then
			# UFW applies IPT_SYSCTL on every enable and at boot: make it apply our file instead.
			g_set_kv /etc/default/ufw IPT_SYSCTL "$_f" "=" || exit 1
		else
			case $_cf in
			/etc/*)
				g_backup "$_cf" || exit 1
				sed -i "${_cl}s/^/# golden-harden: /" "$_cf" || exit 1
				;;
			*)
				echo "$_cf:$_cl sets$_rest after $_f: mask it with /etc/sysctl.d/${_cf##*/}" >&2
				exit 1
				;;
			esac
		fi
	done`
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
		Check: `	if [ -z "$SYSCTL_CUSTOM" ]; then
		g_say "sysctl.overrides adds no parameter beyond the catalogue"
		return 2
	fi
` + sysctlCheck("$SYSCTL_CUSTOM"),
		Fix: sysctlFix("$SYSCTL_CUSTOM"),
	})
	register(Module{
		Name:        "sysctl",
		Description: "Kernel and network parameters (CIS 1.5 and 3.3) persisted in " + sysctlConfFile + " and applied live.",
		Order:       40,
		Controls:    controls,
	})
}
