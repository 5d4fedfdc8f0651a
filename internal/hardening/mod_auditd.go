package hardening

import (
	"path"
	"strconv"
	"strings"
)

// AuditdOptions configures the `auditd` controls (HCL block `auditd { ... }`): auditd installed
// and enabled, /etc/audit/auditd.conf retention and disk actions, and the rule sets of CIS 6.3.3
// (Debian 12: 6.2.3) plus the seed's own rules in /etc/audit/rules.d/50-golden-*.rules, with
// `arch=b64` and `arch=b32` twins of every syscall rule on x86_64. CIS puts all of auditd in
// Level 2; the `baseline` profile includes it too.
//
// Rules are loaded live (`auditctl -R`) only while auditd runs and the loaded rules are not
// immutable, and without `-e 2`: immutability is written to 99-finalize.rules and starts at the
// next boot, so the build and later provisioners are never locked out of the audit
// configuration, and auditd is never restarted. Inside a container auditd cannot run: correct
// files and an enabled service are reported as in force at the next boot.
type AuditdOptions struct {
	// Size in MB at which a log file is rotated (CIS 6.3.2.1). Default: 100 (the seed's value).
	MaxLogFile int `mapstructure:"max_log_file"`
	// Log files kept by rotation: 2 to 99. With the defaults the audit logs take at most 500 MB.
	// Default: 5.
	NumLogs int `mapstructure:"num_logs"`
	// What auditd does when a log file reaches max_log_file: "rotate" or "keep_logs". CIS 6.3.2.2
	// asks for keep_logs, which never deletes logs and so fills the disk unless something ships
	// and removes them; together with a halting disk action the host then stops (the seed's
	// defect). Default: "rotate".
	MaxLogFileAction string `mapstructure:"max_log_file_action"`
	// Action when free space falls below space_left: "syslog", "email" (needs a working mail
	// program, which images rarely have), "exec", "single", "halt" or "suspend". CIS 6.3.2.4
	// accepts email, exec, single or halt. Default: "syslog": a warning that log shipping sees.
	SpaceLeftAction string `mapstructure:"space_left_action"`
	// Action when free space falls below admin_space_left: "suspend", "single", "halt" or
	// "syslog". With rotation the audit logs stay bounded, so this only happens when something
	// else fills the log partition. The default "suspend" stops writing audit records and keeps
	// the host serving, SSH included; CIS 6.3.2.4 asks for "single" or "halt", which stop sshd on
	// an instance nobody can then reach: they apply only when written here, and the default is
	// reported as a deviation. Default: "suspend".
	AdminSpaceLeftAction string `mapstructure:"admin_space_left_action"`
	// Action when the disk is full: "suspend", "single", "halt" or "syslog". CIS 6.3.2.3 asks for
	// "halt" or "single" (sshd stops with them); the default "suspend" keeps SSH up and is
	// reported as a deviation. Default: "suspend".
	DiskFullAction string `mapstructure:"disk_full_action"`
	// Action on a disk error: "syslog", "single", "halt" or "suspend" (CIS 6.3.2.3: syslog, single
	// or halt). Default: "syslog".
	DiskErrorAction string `mapstructure:"disk_error_action"`
	// The sudo log file watched by CIS 6.3.3.3; it must match sudo's `logfile` (the sudo module's
	// default). Default: "/var/log/sudo.log".
	SudoLogFile string `mapstructure:"sudo_log_file"`
}

const (
	auditdConf      = "/etc/audit/auditd.conf"
	auditRulesDir   = "/etc/audit/rules.d"
	auditRulesFile  = "/etc/audit/audit.rules"
	auditFinalRules = auditRulesDir + "/99-finalize.rules"
)

// auditdConfSettings are the auditd.conf keys the options set, with defaults and allowed values.
var auditdConfSettings = []struct {
	option, key, def string
	allowed          []string
}{
	{"max_log_file_action", "max_log_file_action", "rotate", []string{"rotate", "keep_logs"}},
	{"space_left_action", "space_left_action", "syslog", []string{"syslog", "email", "exec", "single", "halt", "suspend"}},
	{"admin_space_left_action", "admin_space_left_action", "suspend", []string{"single", "halt", "suspend", "syslog"}},
	{"disk_full_action", "disk_full_action", "suspend", []string{"single", "halt", "suspend", "syslog"}},
	{"disk_error_action", "disk_error_action", "syslog", []string{"syslog", "single", "halt", "suspend"}},
}

func (o *AuditdOptions) confValue(option string) string {
	switch option {
	case "max_log_file_action":
		return o.MaxLogFileAction
	case "space_left_action":
		return o.SpaceLeftAction
	case "admin_space_left_action":
		return o.AdminSpaceLeftAction
	case "disk_full_action":
		return o.DiskFullAction
	case "disk_error_action":
		return o.DiskErrorAction
	}
	return ""
}

func (o *AuditdOptions) shellParams() map[string]string {
	p := map[string]string{
		"AUDITD_MAX_LOG_FILE":  strconv.Itoa(orDefaultInt(o.MaxLogFile, 100)),
		"AUDITD_NUM_LOGS":      strconv.Itoa(orDefaultInt(o.NumLogs, 5)),
		"AUDITD_SUDO_LOG_FILE": orDefaultString(o.SudoLogFile, "/var/log/sudo.log"),
	}
	for _, s := range auditdConfSettings {
		p["AUDITD_"+strings.ToUpper(s.key)] = strings.ToLower(orDefaultString(o.confValue(s.option), s.def))
	}
	return p
}

func (o *AuditdOptions) validate() []error {
	var errs []error
	errs = append(errs, validateRange("auditd.max_log_file", o.MaxLogFile, 1, 4096, " MB")...)
	errs = append(errs, validateRange("auditd.num_logs", o.NumLogs, 2, 99, "")...)
	for _, s := range auditdConfSettings {
		v := strings.ToLower(o.confValue(s.option))
		if v == "" {
			continue
		}
		ok := false
		for _, a := range s.allowed {
			ok = ok || v == a
		}
		if !ok {
			errs = append(errs, optionErr("auditd."+s.option, "must be one of %s, got %q", strings.Join(s.allowed, ", "), o.confValue(s.option)))
		}
	}
	if f := o.SudoLogFile; f != "" && (!path.IsAbs(f) || strings.ContainsAny(f, " \t\n'\"")) {
		errs = append(errs, optionErr("auditd.sudo_log_file", "must be an absolute path without blanks or quotes, got %q", f))
	}
	return errs
}

// auditRule is one line of a rules file; syscall rules are written once per architecture.
type auditRule struct {
	syscalls []string // empty: Text is written as it is
	fields   string   // the -F/-C filters after the architecture
	key      string
	text     string
}

func watch(path, perms, key string) auditRule {
	return auditRule{text: "-w " + path + " -p " + perms + " -k " + key}
}

func syscalls(names, fields, key string) auditRule {
	return auditRule{syscalls: strings.Split(names, ","), fields: fields, key: key}
}

func execOf(path, key string) auditRule {
	return auditRule{text: "-a always,exit -F path=" + path + " -F perm=x -F auid>=1000 -F auid!=unset -k " + key}
}

const userAuid = "-F auid>=1000 -F auid!=unset"

// Syscalls that the 64-bit tables lack: x86_64 has no stime; the generic table of aarch64 has
// only the *at variants and no legacy module calls.
var (
	missingX8664 = map[string]bool{"stime": true}
	missingArm64 = map[string]bool{
		"open": true, "creat": true, "unlink": true, "rename": true, "chmod": true, "chown": true,
		"lchown": true, "stime": true, "create_module": true, "query_module": true, "link": true,
		"symlink": true, "mkdir": true, "rmdir": true,
	}
)

// lines renders the rule for one machine: x86_64 gets b64 and b32 twins; aarch64 gets b64 only,
// since Graviton processors from the third generation on cannot run 32-bit code at all.
func (r auditRule) lines(arm64 bool) []string {
	if r.text != "" {
		return []string{r.text}
	}
	arches := []string{"b64", "b32"}
	if arm64 {
		arches = []string{"b64"}
	}
	var out []string
	for _, arch := range arches {
		var names []string
		for _, s := range r.syscalls {
			if (arch == "b64" && !arm64 && missingX8664[s]) || (arm64 && missingArm64[s]) {
				continue
			}
			names = append(names, s)
		}
		if len(names) == 0 {
			continue
		}
		line := "-a always,exit -F arch=" + arch + " -S " + strings.Join(names, ",")
		if r.fields != "" {
			line += " " + r.fields
		}
		out = append(out, line+" -k "+r.key)
	}
	return out
}

type auditRuleSet struct {
	name   string // control name after "auditd.rules-" and file name after "50-golden-"
	title  string
	ubuntu []string
	debian []string
	rules  []auditRule
}

var auditRuleSets = []auditRuleSet{
	{name: "scope", title: "Ensure changes to system administration scope (sudoers) are collected",
		ubuntu: []string{"6.3.3.1"}, debian: []string{"6.2.3.1"},
		rules: []auditRule{watch("/etc/sudoers", "wa", "scope"), watch("/etc/sudoers.d", "wa", "scope")}},
	{name: "user-emulation", title: "Ensure actions as another user are always logged",
		ubuntu: []string{"6.3.3.2"}, debian: []string{"6.2.3.2"},
		rules: []auditRule{syscalls("execve", "-C euid!=uid -F auid!=unset", "user_emulation")}},
	{name: "time-change", title: "Ensure events that modify date and time information are collected",
		ubuntu: []string{"6.3.3.4"}, debian: []string{"6.2.3.4"},
		rules: []auditRule{
			syscalls("adjtimex,settimeofday", "", "time-change"),
			syscalls("clock_settime", "-F a0=0x0", "time-change"),
			watch("/etc/localtime", "wa", "time-change"),
		}},
	{name: "system-locale", title: "Ensure events that modify the system's network environment are collected",
		ubuntu: []string{"6.3.3.5"}, debian: []string{"6.2.3.5"},
		rules: []auditRule{
			syscalls("sethostname,setdomainname", "", "system-locale"),
			watch("/etc/issue", "wa", "system-locale"), watch("/etc/issue.net", "wa", "system-locale"),
			watch("/etc/hosts", "wa", "system-locale"), watch("/etc/networks", "wa", "system-locale"),
			watch("/etc/network/", "wa", "system-locale"), watch("/etc/netplan/", "wa", "system-locale"),
		}},
	{name: "access", title: "Ensure unsuccessful file access attempts are collected",
		ubuntu: []string{"6.3.3.7"}, debian: []string{"6.2.3.7"},
		rules: []auditRule{
			syscalls("creat,open,openat,truncate,ftruncate", "-F exit=-EACCES "+userAuid, "access"),
			syscalls("creat,open,openat,truncate,ftruncate", "-F exit=-EPERM "+userAuid, "access"),
		}},
	{name: "identity", title: "Ensure events that modify user/group information are collected",
		ubuntu: []string{"6.3.3.8"}, debian: []string{"6.2.3.8"},
		rules: []auditRule{
			watch("/etc/group", "wa", "identity"), watch("/etc/passwd", "wa", "identity"),
			watch("/etc/gshadow", "wa", "identity"), watch("/etc/shadow", "wa", "identity"),
			watch("/etc/security/opasswd", "wa", "identity"), watch("/etc/nsswitch.conf", "wa", "identity"),
			watch("/etc/pam.conf", "wa", "identity"), watch("/etc/pam.d", "wa", "identity"),
		}},
	{name: "perm-mod", title: "Ensure discretionary access control permission modification events are collected",
		ubuntu: []string{"6.3.3.9"}, debian: []string{"6.2.3.9"},
		rules: []auditRule{
			syscalls("chmod,fchmod,fchmodat", userAuid, "perm_mod"),
			syscalls("chown,fchown,lchown,fchownat", userAuid, "perm_mod"),
			syscalls("setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr", userAuid, "perm_mod"),
		}},
	{name: "mounts", title: "Ensure successful file system mounts are collected",
		ubuntu: []string{"6.3.3.10"}, debian: []string{"6.2.3.10"},
		rules: []auditRule{syscalls("mount", userAuid, "mounts")}},
	{name: "session", title: "Ensure session initiation information is collected",
		ubuntu: []string{"6.3.3.11"}, debian: []string{"6.2.3.11"},
		rules: []auditRule{
			watch("/var/run/utmp", "wa", "session"), watch("/var/log/wtmp", "wa", "session"),
			watch("/var/log/btmp", "wa", "session"),
		}},
	{name: "logins", title: "Ensure login and logout events are collected",
		ubuntu: []string{"6.3.3.12"}, debian: []string{"6.2.3.12"},
		rules: []auditRule{watch("/var/log/lastlog", "wa", "logins"), watch("/var/run/faillock", "wa", "logins")}},
	{name: "delete", title: "Ensure file deletion events by users are collected",
		ubuntu: []string{"6.3.3.13"}, debian: []string{"6.2.3.13"},
		rules: []auditRule{syscalls("rename,unlink,unlinkat,renameat", userAuid, "delete")}},
	{name: "mac-policy", title: "Ensure events that modify the system's Mandatory Access Controls are collected",
		ubuntu: []string{"6.3.3.14"}, debian: []string{"6.2.3.14"},
		rules: []auditRule{watch("/etc/apparmor/", "wa", "MAC-policy"), watch("/etc/apparmor.d/", "wa", "MAC-policy")}},
	{name: "acl-commands", title: "Ensure successful and unsuccessful uses of chcon, setfacl and chacl are collected",
		ubuntu: []string{"6.3.3.15", "6.3.3.16", "6.3.3.17"}, debian: []string{"6.2.3.15", "6.2.3.16", "6.2.3.17"},
		rules: []auditRule{execOf("/usr/bin/chcon", "perm_chng"), execOf("/usr/bin/setfacl", "perm_chng"), execOf("/usr/bin/chacl", "perm_chng")}},
	{name: "usermod", title: "Ensure successful and unsuccessful uses of usermod are collected",
		ubuntu: []string{"6.3.3.18"}, debian: []string{"6.2.3.18"},
		rules: []auditRule{execOf("/usr/sbin/usermod", "usermod")}},
	{name: "kernel-modules", title: "Ensure kernel module loading, unloading and modification is collected",
		ubuntu: []string{"6.3.3.19"}, debian: []string{"6.2.3.19"},
		rules: []auditRule{
			syscalls("init_module,finit_module,delete_module,create_module,query_module", userAuid, "kernel_modules"),
			execOf("/usr/bin/kmod", "kernel_modules"),
		}},
	{name: "seed", title: "Ensure the seed pipeline's own audit rules are loaded (authentication logs, hostname, su/sudo, system libraries, module tools)",
		rules: []auditRule{
			{text: "-b 8192"}, {text: "-f 1"},
			watch("/var/log/auth.log", "wa", "authentication"), watch("/var/log/faillog", "wa", "logins"),
			watch("/var/log/tallylog", "wa", "logins"), watch("/etc/hostname", "wa", "network"),
			watch("/bin/su", "x", "privileged"), watch("/usr/bin/sudo", "x", "privileged"),
			watch("/etc/sudoers", "rw", "privileged"),
			watch("/lib", "wa", "system-libraries"), watch("/lib64", "wa", "system-libraries"),
			watch("/usr/lib", "wa", "system-libraries"), watch("/usr/lib64", "wa", "system-libraries"),
			watch("/sbin/insmod", "x", "modules"), watch("/sbin/rmmod", "x", "modules"),
			watch("/sbin/modprobe", "x", "modules"),
		}},
}

func (s auditRuleSet) refs() []Ref {
	var refs []Ref
	for _, id := range s.ubuntu {
		refs = append(refs, cisRefs(id, "")...)
	}
	for _, id := range s.debian {
		refs = append(refs, cisRefs("", id)...)
	}
	return refs
}

func (s auditRuleSet) content(arm64 bool) string {
	lines := []string{"## golden-harden: " + s.title}
	for _, r := range s.rules {
		lines = append(lines, r.lines(arm64)...)
	}
	return strings.Join(lines, "\n")
}

// auditWantRules is shell that sets _f to the rules file of a set and _want to its content for
// this machine.
func (s auditRuleSet) wantRules() string {
	x86, arm := s.content(false), s.content(true)
	sh := "\t_f=" + auditRulesDir + "/50-golden-" + s.name + ".rules\n"
	if x86 == arm {
		return sh + "\t_want=" + shellQuote(x86) + "\n"
	}
	return sh + `	case $(uname -m) in
	aarch64 | arm64) _want=` + shellQuote(arm) + ` ;;
	*) _want=` + shellQuote(x86) + ` ;;
	esac
`
}

// auditFileCheck compares _f with _want; auditFileFix writes it.
var auditFileCheck = embedded("auditd/audit-file-check.sh")

const auditFileFix = `	printf '%s\n' "$_want" | g_write_file "$_f" 0640 root:root`

// auditPrivilegedRules is shell that sets _want to one rule per setuid/setgid program of the
// root file system (CIS 6.3.3.6), found at run time.
var auditPrivilegedRules = "\t_f=" + auditRulesDir + "/50-golden-privileged.rules\n" + embedded("auditd/privileged-rules.sh") + "\n"

// auditConfAwk handles the "key:value" pairs of _pairs (environment, space-separated) in
// auditd.conf, where a key's first setting counts. With -v op=check (one file) it prints each key's
// value (lower case) and exits 1 when one differs; with -v op=fix (the file twice: read, then
// written) it prints the file with the keys that differ set: their first setting replaced by
// "key = value", later ones commented out, a missing key appended. Keys already right are left
// as they are written.
var auditConfAwk = embedded("auditd/audit-conf.awk")

// auditActionDeviations are the disk actions whose safe defaults CIS words otherwise: the control,
// the shell variable, the option, the benchmark item and the values it accepts.
var auditActionDeviations = map[string]struct{ variable, option, item, cis string }{
	"auditd.disk-full":  {"AUDITD_DISK_FULL_ACTION", "auditd.disk_full_action", "6.3.2.3", "halt | single"},
	"auditd.space-left": {"AUDITD_ADMIN_SPACE_LEFT_ACTION", "auditd.admin_space_left_action", "6.3.2.4", "halt | single"},
}

// auditActionDeviation is shell for the check of control id that says, in its evidence, when the
// action in force is one CIS does not accept (and why it is the default).
func auditActionDeviation(id string) string {
	d, ok := auditActionDeviations[id]
	if !ok {
		return ""
	}
	return `	case $` + d.variable + ` in
	` + d.cis + `) ;;
	*) g_say "` + d.option + ` = $` + d.variable + ` deviates from CIS ` + d.item + ` (single or halt, which stop sshd): set ` + d.option + ` to single or halt to follow it" ;;
	esac
`
}

func auditConfControl(id, title string, refs []Ref, pairs string) Control {
	return Control{
		ID:    "auditd." + id,
		Title: title,
		Refs:  refs,
		Level: 2,
		OS:    debianFamilies,
		Check: auditActionDeviation("auditd."+id) + "\t_audit_pairs=\"" + pairs + "\"\n" +
			embeddedWith("auditd/conf-check.sh", "_auditd_conf", auditdConf, "_audit_conf_awk", auditConfAwk),
		Fix: "\t_audit_pairs=\"" + pairs + "\"\n" +
			embeddedWith("auditd/conf-fix.sh", "_auditd_conf", auditdConf, "_audit_conf_awk", auditConfAwk),
	}
}

func init() {
	controls := []Control{
		{
			ID:    "auditd.installed",
			Title: "Ensure auditd packages are installed",
			Refs:  cisRefs("6.3.1.1", "6.2.1.1"),
			Level: 2,
			OS:    debianFamilies,
			Check: packagesInstalledCheck("auditd", "audispd-plugins"),
			Fix:   "\tg_pkg_install auditd audispd-plugins",
		},
		{
			ID:    "auditd.service",
			Title: "Ensure auditd service is enabled and active",
			Refs:  cisRefs("6.3.1.2", "6.2.1.2"),
			Level: 2,
			OS:    debianFamilies,
			Check: embedded("auditd/service-check.sh"),
			Fix:   embedded("auditd/service-fix.sh"),
		},
		auditConfControl("log-storage", "Ensure audit log storage size is configured",
			cisRefs("6.3.2.1", "6.2.2.1"), "max_log_file:$AUDITD_MAX_LOG_FILE num_logs:$AUDITD_NUM_LOGS"),
		auditConfControl("log-rotation", "Ensure audit logs are rotated or kept as configured (auditd.max_log_file_action)",
			nil, "max_log_file_action:$AUDITD_MAX_LOG_FILE_ACTION"),
		auditConfControl("disk-full", "Ensure the system acts when audit logs fill the disk or the disk fails",
			cisRefs("6.3.2.3", "6.2.2.3"), "disk_full_action:$AUDITD_DISK_FULL_ACTION disk_error_action:$AUDITD_DISK_ERROR_ACTION"),
		auditConfControl("space-left", "Ensure the system warns and acts when audit logs are low on space (auditd.space_left_action, auditd.admin_space_left_action)",
			nil, "space_left_action:$AUDITD_SPACE_LEFT_ACTION admin_space_left_action:$AUDITD_ADMIN_SPACE_LEFT_ACTION"),
		{
			ID:    "auditd.rules-sudo-log",
			Title: "Ensure events that modify the sudo log file are collected",
			Refs:  cisRefs("6.3.3.3", "6.2.3.3"),
			Level: 2,
			OS:    debianFamilies,
			Check: "\t_f=" + auditRulesDir + "/50-golden-sudo-log.rules\n" + `	_want=$(printf '## golden-harden: Ensure events that modify the sudo log file are collected\n-w %s -p wa -k sudo_log_file' "$AUDITD_SUDO_LOG_FILE")
` + auditFileCheck,
			Fix: "\t_f=" + auditRulesDir + "/50-golden-sudo-log.rules\n" + `	_want=$(printf '## golden-harden: Ensure events that modify the sudo log file are collected\n-w %s -p wa -k sudo_log_file' "$AUDITD_SUDO_LOG_FILE")
` + auditFileFix,
		},
		{
			ID:    "auditd.rules-privileged",
			Title: "Ensure use of privileged commands is collected",
			Refs:  cisRefs("6.3.3.6", "6.2.3.6"),
			Level: 2,
			OS:    debianFamilies,
			Check: auditPrivilegedRules + auditFileCheck,
			Fix:   auditPrivilegedRules + auditFileFix,
		},
	}
	for _, s := range auditRuleSets {
		controls = append(controls, Control{
			ID:    "auditd.rules-" + s.name,
			Title: s.title,
			Refs:  s.refs(),
			Level: 2,
			OS:    debianFamilies,
			Check: s.wantRules() + auditFileCheck,
			Fix:   s.wantRules() + auditFileFix,
		})
	}
	controls = append(controls,
		Control{
			ID:    "auditd.immutable",
			Title: "Ensure the audit configuration is immutable (from the next boot on)",
			Refs:  cisRefs("6.3.3.20", "6.2.3.20"),
			Level: 2,
			OS:    debianFamilies,
			Check: `	_f=` + auditFinalRules + "\n" + embedded("auditd/immutable-check.sh"),
			Fix: `	printf '## golden-harden: audit rules immutable until reboot; loaded at boot by augenrules\n-e 2\n' |
		g_write_file ` + auditFinalRules + ` 0640 root:root`,
		},
		Control{
			ID:    "auditd.rules-loaded",
			Title: "Ensure the running and on disk audit configuration is the same",
			Refs:  cisRefs("6.3.3.21", "6.2.3.21"),
			Level: 2,
			OS:    debianFamilies,
			Check: embeddedWith("auditd/rules-loaded-check.sh", "_audit_rules", auditRulesFile, "_audit_rules_d", auditRulesDir),
			Fix: `	# Regenerate audit.rules from rules.d; the module's Finalize loads it.
	g_backup ` + auditRulesFile + ` || return 1
	g_backup ` + auditRulesFile + `.prev || return 1
	augenrules >/dev/null`,
		},
	)
	register(Module{
		Name:        "auditd",
		Description: "auditd installed and enabled, bounded log retention, CIS 6.3.3 rule sets with 32-bit twins, immutable from the next boot on.",
		// After every module that installs packages (sudo, cron...): the privileged-commands rules
		// list the setuid and setgid programs on disk when the module runs, and a program
		// installed after it would be missing until the next run.
		Order:    135,
		Finalize: embeddedWith("auditd/finalize.sh", "_audit_rules", auditRulesFile),
		Controls: controls,
	})
}
