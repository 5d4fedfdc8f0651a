package hardening

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// What the catalogue promises as a whole: the modules and CIS Level 1 server controls golden-harden
// is specified with, references to both benchmark editions, and a rendered script in which
// shellcheck finds nothing.

// requiredModules are the module names templates use in skip and only_controls.
var requiredModules = []string{"modules", "sysctl", "coredumps", "ssh", "firewall", "fail2ban", "chrony", "auditd",
	"pam", "login", "sudo", "cron", "files", "services", "banners", "packages", "timezone", "build_info"}

// inDefaultProfile: control ids that must exist, and whether the default profile selects them.
var inDefaultProfile = map[string]bool{
	"modules.cramfs": true, "modules.freevxfs": true, "modules.jffs2": true, "modules.hfs": true,
	"modules.hfsplus": true, "modules.usb-storage": true,
	"modules.squashfs": false, // snaps (and the SSM agent on Ubuntu) need it
	"sysctl.aslr":      true, "sysctl.ptrace-scope": true, "sysctl.suid-dumpable": true,
	"coredumps.hard-limit": true, "coredumps.systemd-coredump": true,
	"firewall.ufw-installed": true, "firewall.loopback": true, "firewall.ssh-port": true, "firewall.allow-list": true,
	"firewall.default-policy": true, "firewall.enabled": true,
	"fail2ban.installed": true, "fail2ban.sshd-jail": true, "fail2ban.service": true,
	"chrony.single-daemon": true, "chrony.sources": true, "chrony.user": true, "chrony.service": true,
	"pam.pwquality-enabled": true, "pam.faillock-enabled": true, "pam.pwhistory-enabled": true, "pam.unix-no-nullok": true,
	"login.pass-max-days": true, "login.encrypt-method": true, "login.umask": true, "login.shell-timeout": true,
	"sudo.use-pty": true, "sudo.logfile": true,
	"cron.crontab": true, "cron.allow": true, "cron.at-allow": true,
	"files.passwd": true, "files.shadow": true, "files.group": true, "files.gshadow": true,
	"files.world-writable": true, "files.unowned": true,
	"banners.issue": true, "banners.issue-net": true, "banners.motd": true,
	"packages.install": true, "timezone.zone": true, "build_info.file": true,
	// CIS puts all of auditd in Level 2; the baseline profile has it.
	"auditd.installed": false, "auditd.service": false, "auditd.immutable": false,
}

// cisItems are runs of benchmark items (prefix.from up to prefix.to) a module must reference, in
// both editions: the Ubuntu 22.04 v2.0.0 number and the Debian 12 v1.1.0 one.
var cisItems = []struct {
	module, ubuntu, debian string
	from, to               int
}{
	{"modules", "1.1.1", "1.1.1", 1, 5}, // filesystem modules (the numbers diverge after 1.1.1.5)
	{"modules", "3.2", "3.2", 1, 4},     // network protocol modules
	{"sysctl", "1.5", "1.5", 1, 3},      // ASLR, ptrace_scope, suid_dumpable
	{"sysctl", "3.3", "3.3", 1, 11},     // every network parameter
	{"coredumps", "1.5", "1.5", 3, 3},
	{"banners", "1.6", "1.6", 1, 6},
	{"services", "2.1", "2.1", 1, 21},
	{"services", "2.2", "2.2", 1, 6},
	{"chrony", "2.3.1", "2.3.1", 1, 1},
	{"chrony", "2.3.3", "2.3.3", 1, 3},
	{"cron", "2.4.1", "2.4.1", 1, 8},
	{"cron", "2.4.2", "2.4.2", 1, 1},
	{"firewall", "4.1", "4.2", 1, 7},
	{"ssh", "5.1", "5.1", 1, 22}, // every sshd setting of CIS 5.1
	{"sudo", "5.2", "5.2", 1, 3},
	{"sudo", "5.2", "5.2", 5, 7}, // 5.2.4 (a password for sudo) would lock the build user out
	{"pam", "5.3.1", "5.3.1", 2, 3},
	{"pam", "5.3.2", "5.3.2", 1, 4},
	{"pam", "5.3.3.1", "5.3.3.1", 1, 3},
	{"pam", "5.3.3.2", "5.3.3.2", 1, 8},
	{"pam", "5.3.3.3", "5.3.3.3", 1, 3},
	{"pam", "5.3.3.4", "5.3.3.4", 1, 4},
	{"login", "5.4.1", "5.4.1", 1, 5},
	{"login", "5.4.3", "5.4.3", 2, 3},
	{"auditd", "6.3.1", "6.2.1", 1, 2},
	{"auditd", "6.3.2", "6.2.2", 1, 1}, // 6.3.2.2 and 6.3.2.4 are deviated from on purpose (see their options)
	{"auditd", "6.3.2", "6.2.2", 3, 3},
	{"auditd", "6.3.3", "6.2.3", 1, 21},
	{"files", "7.1", "7.1", 1, 12},
	{"files", "7.2", "7.2", 1, 8},
}

// withoutCISRef are the controls that implement no benchmark item: the seed playbook's settings,
// the safety controls of the build, options beyond CIS, and settings CIS words otherwise.
var withoutCISRef = map[string]string{
	"packages.install":             "the seed's essential packages",
	"packages.remove":              "packages the template names",
	"packages.unattended-upgrades": "optional",
	"timezone.zone":                "the seed's UTC",
	"sysctl.kernel-pointers":       "KSPP's recommendation, in Lynis' default profile; not a CIS item",
	"sysctl.unprivileged-bpf":      "KSPP's recommendation, in Lynis' default profile; not a CIS item",
	"sysctl.tty-line-disciplines":  "KSPP's recommendation, in Lynis' default profile; not a CIS item",
	"sysctl.protected-files":       "KSPP's recommendation, in Lynis' default profile; not a CIS item",
	"ssh.agent-forwarding":         "not an item of CIS 5.1 v2.0.0 (DisableForwarding, Level 2, covers it)",
	"ssh.tcp-keepalive":            "not an item of CIS 5.1 v2.0.0",
	"ssh.compression":              "not an item of CIS 5.1 v2.0.0",
	"ssh.protocol":                 "the SCAP Security Guide's sshd_allow_only_protocol2; CIS dropped the item with protocol 1",
	"cron.installed":               "the SCAP Security Guide's package_cron_installed; CIS scopes cron to systems that have it",
	"modules.additional":           "modules the template names",
	"modules.firewire-core":        "Lynis' STRG-1846; not a CIS item",
	"pam.tmpdir":                   "Lynis' DEB-0280; not a CIS item",
	"packages.debsums":             "Lynis' PKGS-7370; not a CIS item",
	"accounting.process":           "Lynis' ACCT-9622; not a CIS item",
	"sysctl.custom":                "parameters the template names",
	"firewall.ssh-port":            "the build keeps its SSH port",
	"firewall.allow-list":          "ports the template names",
	"firewall.sysctl-agreement":    "ufw's sysctl file must not undo CIS 3.3.9",
	"ssh.drop-in-include":          "the drop-in must win over sshd_config",
	"ssh.password-authentication":  "the seed's setting; not an item of CIS 5.1 v2.0.0",
	"ssh.pubkey-authentication":    "the seed's setting",
	"ssh.x11-forwarding":           "within CIS 5.1.8 DisableForwarding, a Level 2 item",
	"ssh.tcp-forwarding":           "within CIS 5.1.8 DisableForwarding, a Level 2 item",
	"fail2ban.installed":           "the seed's fail2ban",
	"fail2ban.sshd-jail":           "the seed's fail2ban",
	"fail2ban.service":             "the seed's fail2ban",
	"auditd.log-rotation":          "rotates by default where CIS 6.3.2.2 keeps logs until the disk is full",
	"auditd.space-left":            "warns through syslog by default where CIS 6.3.2.4 wants email, exec, single or halt",
	"auditd.rules-seed":            "the seed's own audit rules",
	"build_info.file":              "the seed's build info",
}

// singleEdition are the controls of both OS families that reference one benchmark edition only,
// with why.
var singleEdition = map[string]string{
	"modules.overlayfs": "CIS Ubuntu 22.04 v2.0.0 has no overlayfs item",
}

var (
	refVersionPattern = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)
	refIDPattern      = regexp.MustCompile(`^[0-9]+(\.[0-9]+)+$`)
)

func TestCatalogueHasTheSpecifiedModulesAndControls(t *testing.T) {
	for _, name := range requiredModules {
		if _, ok := registry[name]; !ok {
			t.Errorf("module %s is missing", name)
		}
	}
	controls := map[string]Control{}
	for _, m := range Modules() {
		for _, c := range m.Controls {
			controls[c.ID] = c
		}
	}
	for id, want := range inDefaultProfile {
		c, ok := controls[id]
		if !ok {
			t.Errorf("control %s is missing", id)
			continue
		}
		if got := inProfile(DefaultProfile, c); got != want {
			t.Errorf("%s: in the default profile %s: %v, want %v", id, DefaultProfile, got, want)
		}
	}
	if c := controls["modules.squashfs"]; inProfile(ProfileBaseline, c) {
		t.Error("modules.squashfs is in the baseline profile: snaps need squashfs")
	}

	// Every item of the sections the catalogue covers is referenced, in both editions.
	refs := map[string]map[string]bool{} // module -> "benchmark id" -> referenced
	for _, c := range controls {
		if refs[c.Module] == nil {
			refs[c.Module] = map[string]bool{}
		}
		for _, r := range c.Refs {
			refs[c.Module][r.Benchmark+" "+r.ID] = true
		}
	}
	for _, s := range cisItems {
		for n := s.from; n <= s.to; n++ {
			for bench, prefix := range map[string]string{benchUbuntu2204: s.ubuntu, benchDebian12: s.debian} {
				if item := fmt.Sprintf("%s.%d", prefix, n); !refs[s.module][bench+" "+item] {
					t.Errorf("module %s references no control to %s %s", s.module, bench, item)
				}
			}
		}
	}
}

func TestCatalogueReferences(t *testing.T) {
	for _, m := range Modules() {
		for _, c := range m.Controls {
			if len(c.Refs) == 0 {
				if withoutCISRef[c.ID] == "" {
					t.Errorf("%s has no benchmark reference: add its CIS items, or say in withoutCISRef why it has none", c.ID)
				}
				continue
			}
			if withoutCISRef[c.ID] != "" {
				t.Errorf("%s has references now: remove it from withoutCISRef", c.ID)
			}
			editions := map[string]bool{}
			for _, r := range c.Refs {
				editions[r.Benchmark] = true
				wantVersion := map[string]string{benchUbuntu2204: benchUbuntu2204Version, benchDebian12: benchDebian12Version}[r.Benchmark]
				if wantVersion == "" || r.Version != wantVersion || !refVersionPattern.MatchString(r.Version) || !refIDPattern.MatchString(r.ID) {
					t.Errorf("%s: reference %q is not a benchmark, version and item of the two editions", c.ID, r)
				}
			}
			forDebian := len(c.OS) == 0 || contains(c.OS, "debian")
			// "debian" names the family, Ubuntu included (see Control.AppliesTo).
			forUbuntu := len(c.OS) == 0 || contains(c.OS, "ubuntu") || contains(c.OS, "debian")
			switch {
			case singleEdition[c.ID] != "":
				if len(editions) != 1 {
					t.Errorf("%s references both editions now: remove it from singleEdition", c.ID)
				}
			case forDebian && !editions[benchDebian12], forUbuntu && !editions[benchUbuntu2204]:
				t.Errorf("%s (OS %v) lacks a reference to one of the editions: %v", c.ID, c.OS, c.Refs)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// shellcheckNotes are the shellcheck findings still accepted in the rendered controls, by module
// and code: each is a known gap of that module's snippets, to be fixed there and removed here.
// Anything else shellcheck reports, at any severity (style and info included), fails.
var shellcheckNotes = map[string][]string{}

// finding is one shellcheck note, placed in the control or runtime part it belongs to.
type finding struct {
	line          int
	level, code   string
	message, part string // part: a control id, "module <name>" (its finalize) or "runtime"
}

// shellcheckStrict runs shellcheck at its default severity (style and up) on a rendered script
// and returns every finding with the part of the script it is in, and the modules in the script.
func shellcheckStrict(t *testing.T, script string) ([]finding, map[string]bool) {
	t.Helper()
	sc := requireTool(t, "shellcheck")
	path := filepath.Join(t.TempDir(), "harden.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sc, "-s", "sh", "-f", "gcc", path).Output()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("shellcheck: %v", err)
	}
	// Which part each line is in: the render writes "# <id>: <title>" before a control's
	// functions and "# module <name>" before a finalize function.
	header := regexp.MustCompile(`^# (module [a-z][a-z0-9_]*|[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9._-]*: )`)
	var parts []string
	modules := map[string]bool{}
	part := "runtime"
	lines := bufio.NewScanner(strings.NewReader(script))
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		if m := header.FindStringSubmatch(lines.Text()); m != nil {
			part = strings.TrimSuffix(m[1], ": ")
			modules[moduleOf(part)] = true
		}
		parts = append(parts, part)
	}
	line := regexp.MustCompile(`^[^:]+:([0-9]+):[0-9]+: ([a-z]+): (.*) \[(SC[0-9]+)\]$`)
	var findings []finding
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			if l != "" {
				t.Errorf("unexpected shellcheck output %q", l)
			}
			continue
		}
		f := finding{level: m[2], message: m[3], code: m[4]}
		fmt.Sscan(m[1], &f.line)
		if f.line >= 1 && f.line <= len(parts) {
			f.part = parts[f.line-1]
		}
		findings = append(findings, f)
	}
	return findings, modules
}

// moduleOf is the module a script part belongs to.
func moduleOf(part string) string {
	if name, ok := strings.CutPrefix(part, "module "); ok {
		return name
	}
	module, _, _ := strings.Cut(part, ".")
	return module
}

// assertShellcheckClean runs shellcheckStrict on the script and fails on every finding that
// shellcheckNotes does not accept; it says which accepted ones are gone. Rendered scripts carry
// the runtime and thousands of lines of controls: shellcheck takes from seconds to most of a minute
// on each, so the quick suite leaves them to the full one and keeps the embedded files' check
// (TestEmbeddedShellPassesShellcheck) and the small rendered script's (TestRenderedScriptPassesShellChecks).
func assertShellcheckClean(t *testing.T, script string) {
	t.Helper()
	if testing.Short() {
		t.Skip("shellcheck over a rendered script: skipped under -short")
	}
	findings, modules := shellcheckStrict(t, script)
	seen := map[string]bool{}
	var bad []string
	for _, f := range findings {
		mod := moduleOf(f.part)
		if f.part != "runtime" && contains(shellcheckNotes[mod], f.code) {
			seen[mod+" "+f.code] = true
			continue
		}
		bad = append(bad, fmt.Sprintf("line %d, %s: %s %s: %s", f.line, f.part, f.level, f.code, f.message))
	}
	if len(bad) > 0 {
		t.Errorf("shellcheck -s sh finds %d problems:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	var gone []string
	for mod, codes := range shellcheckNotes {
		for _, code := range codes {
			if modules[mod] && !seen[mod+" "+code] {
				gone = append(gone, mod+" "+code)
			}
		}
	}
	sort.Strings(gone)
	if len(gone) > 0 {
		t.Logf("accepted shellcheck notes no longer found (remove them from shellcheckNotes): %s", strings.Join(gone, ", "))
	}
}

// The whole catalogue with options that are not the defaults (lists, multi-line text with quotes,
// maps, switched-off parts): the values reach the snippets as shell variables, and shellcheck must
// still find nothing.
func TestCatalogueShellcheckWithOptions(t *testing.T) {
	no, yes := false, true
	opts := Options{
		KernelModules: KernelModulesOptions{Disable: []string{"firewire-core", "thunderbolt"}, Allow: []string{"usb-storage"}},
		Sysctl:        SysctlOptions{Router: true, Overrides: map[string]string{"net.ipv4.conf.all.arp_ignore": "1", "kernel.dmesg_restrict": "1"}},
		SSH: SSHOptions{MaxAuthTries: 3, AllowUsers: []string{"ops", "deploy@10.0.0.0/8"}, AllowGroups: []string{"admins"},
			DenyUsers: []string{"guest"}, Banner: "/etc/issue.net", LogLevel: "INFO", MaxStartups: "5:30:20"},
		Firewall: FirewallOptions{Enabled: &yes, Allow: []string{"443/tcp", "10.0.0.0/8:8080/tcp", "60000-61000/udp"},
			DefaultOutgoing: "deny", AllowOut: []string{"443/tcp", "53/udp", "10.1.0.0/16:5432/tcp"}},
		Fail2ban: Fail2banOptions{Bantime: "2h", Findtime: "15m", Maxretry: 5, Ignoreip: []string{"10.20.0.0/16", "2001:db8::/32"}},
		Chrony:   ChronyOptions{Servers: []string{"169.254.169.123", "time.internal"}, Pools: []string{"pool.internal"}, ReplaceDefaultSources: &no},
		Auditd:   AuditdOptions{MaxLogFile: 50, NumLogs: 10, MaxLogFileAction: "keep_logs", SpaceLeftAction: "exec", SudoLogFile: "/var/log/sudo-io.log"},
		Banners:  BannersOptions{Text: "It's monitored: $HOME `x` \"quoted\".\nSecond line."},
	}
	if err := opts.Validate(); err != nil {
		t.Fatalf("the options should be valid: %v", err)
	}
	script, err := Render(Plan{Mode: ModeEnforce, OS: OSInfo{ID: "ubuntu", VersionID: "22.04", Family: "debian"},
		BuildUser: "ubuntu", SSHPort: 2222, RunID: "opts", WorkDir: "/tmp/golden-harden-opts",
		Params: opts.ShellParams(), Modules: Modules()})
	if err != nil {
		t.Fatal(err)
	}
	assertShellcheckClean(t, string(script))
}

// TestNoPackageInstalledAfterThePrivilegedRules: auditd's privileged-commands rules list the
// setuid and setgid programs on disk when its module runs, so no module that runs after it may
// install a package (one with such a program, cron's setgid crontab or sudo, would make the
// re-run change the rules: seen on Ubuntu 26.04, where neither comes with the image).
func TestNoPackageInstalledAfterThePrivilegedRules(t *testing.T) {
	var auditd Module
	for _, m := range Modules() {
		if m.Name == "auditd" {
			auditd = m
		}
	}
	if auditd.Name == "" {
		t.Fatal("no auditd module")
	}
	for _, m := range Modules() {
		if m.Order <= auditd.Order {
			continue
		}
		for _, c := range m.Controls {
			if strings.Contains(c.Fix, "g_pkg_install") {
				t.Errorf("%s (module %s, order %d) installs packages after auditd (order %d) has listed the privileged programs",
					c.ID, m.Name, m.Order, auditd.Order)
			}
		}
		if strings.Contains(m.Finalize, "g_pkg_install") {
			t.Errorf("module %s (order %d) installs packages in Finalize after auditd (order %d)", m.Name, m.Order, auditd.Order)
		}
	}
}

// A module whose fixes stage their edits (g_stage) has them installed by the driver just before
// its Finalize, which the driver runs only for a module that has one: without, the edits are lost.
func TestStagingModulesHaveAFinalize(t *testing.T) {
	n := 0
	for _, m := range Modules() {
		for _, c := range m.Controls {
			if !strings.Contains(c.Fix, "g_stage ") {
				continue
			}
			n++
			if strings.TrimSpace(m.Finalize) == "" {
				t.Errorf("%s stages its edits, but module %s has no Finalize", c.ID, m.Name)
			}
		}
	}
	if n == 0 {
		t.Error("no control stages its edits: the test looks for the wrong thing")
	}
}
