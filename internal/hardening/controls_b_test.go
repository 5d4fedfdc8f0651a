package hardening

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Modules of control group B: rendered, linted and checked together.
var controlsBModules = []string{"packages", "timezone", "services", "pam", "login", "sudo", "cron", "banners", "files", "build_info"}

func TestControlsBShellcheckClean(t *testing.T) {
	for _, name := range controlsBModules {
		t.Run(name, func(t *testing.T) {
			assertShellcheckClean(t, renderModules(t, Options{}, name))
		})
	}
}

func TestControlsBDashParses(t *testing.T) {
	dash := requireTool(t, "dash")
	path := filepath.Join(t.TempDir(), "harden.sh")
	if err := os.WriteFile(path, []byte(renderModules(t, Options{}, controlsBModules...)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(dash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("dash -n: %v\n%s", err, out)
	}
}

// Options that are not the defaults render a clean script too (lists, multi-line texts, maps).
func TestControlsBShellcheckWithOptions(t *testing.T) {
	opts := Options{
		Files:     FilesOptions{ScanExclude: []string{"/srv/data", "/opt/app/*"}, ScanTimeout: "30s"},
		Cron:      CronOptions{AllowUsers: []string{"root", "deploy"}},
		Services:  ServicesOptions{Allow: []string{"nginx", "rsync"}},
		Banners:   BannersOptions{Text: "Line one.\nIt's line two: $HOME `x` \"quoted\"."},
		Packages:  PackagesOptions{Install: []string{"jq"}, Remove: []string{"telnet"}, UnattendedUpgrades: true},
		Timezone:  TimezoneOptions{Name: "America/Argentina/Buenos_Aires"},
		BuildInfo: BuildInfoOptions{BuildID: "ci-42", Values: map[string]string{"TEAM": "platform", "GIT_COMMIT": "abc123"}},
		Login:     LoginOptions{ApplyToExistingUsers: true, EncryptMethod: "YESCRYPT", Umask: "077"},
	}
	if err := opts.Validate(); err != nil {
		t.Fatalf("options should be valid: %v", err)
	}
	assertShellcheckClean(t, renderModules(t, opts, controlsBModules...))
}

// Every bad value is an error that names its option, as `packer validate` shows it.
func TestControlsBValidateNamesTheOption(t *testing.T) {
	cases := []struct {
		option string
		set    func(o *Options)
	}{
		{"pam.minlen", func(o *Options) { o.PAM.MinLen = 5 }},
		{"pam.minclass", func(o *Options) { o.PAM.MinClass = 5 }},
		{"pam.difok", func(o *Options) { o.PAM.DifOK = -1 }},
		{"pam.maxrepeat", func(o *Options) { o.PAM.MaxRepeat = 65 }},
		{"pam.maxsequence", func(o *Options) { o.PAM.MaxSequence = -3 }},
		{"pam.faillock_deny", func(o *Options) { o.PAM.FaillockDeny = 21 }},
		{"pam.faillock_unlock_time", func(o *Options) { o.PAM.FaillockUnlockTime = 30 }},
		{"pam.faillock_root_unlock_time", func(o *Options) { o.PAM.FaillockRootUnlockTime = 59 }},
		{"pam.remember", func(o *Options) { o.PAM.Remember = 401 }},
		{"login.pass_max_days", func(o *Options) { o.Login.PassMaxDays = 100000 }},
		{"login.pass_min_days", func(o *Options) { o.Login.PassMinDays = 400 }},
		{"login.pass_min_days", func(o *Options) { o.Login.PassMaxDays = 30; o.Login.PassMinDays = 30 }},
		{"login.pass_warn_age", func(o *Options) { o.Login.PassWarnAge = 365 }},
		{"login.encrypt_method", func(o *Options) { o.Login.EncryptMethod = "MD5" }},
		{"login.encrypt_method", func(o *Options) { o.Login.EncryptMethod = "yescrypt" }},
		{"login.inactive_days", func(o *Options) { o.Login.InactiveDays = -1 }},
		{"login.umask", func(o *Options) { o.Login.Umask = "0022x" }},
		{"login.umask", func(o *Options) { o.Login.Umask = "002" }},
		{"login.umask", func(o *Options) { o.Login.Umask = "27" }},
		{"login.shell_timeout", func(o *Options) { o.Login.ShellTimeout = 86401 }},
		{"sudo.logfile", func(o *Options) { o.Sudo.LogFile = "var/log/sudo.log" }},
		{"sudo.logfile", func(o *Options) { o.Sudo.LogFile = "/var/log/sudo log" }},
		{"sudo.logfile", func(o *Options) { o.Sudo.LogFile = "/var/log/" }},
		{"sudo.logfile", func(o *Options) { o.Sudo.LogFile = `/var/log/"x"` }},
		{"sudo.timestamp_timeout", func(o *Options) { o.Sudo.TimestampTimeout = -1 }},
		{"sudo.su_group", func(o *Options) { o.Sudo.SuGroup = "Admins" }},
		{"sudo.su_group", func(o *Options) { o.Sudo.SuGroup = "a;b" }},
		{"cron.allow_users", func(o *Options) { o.Cron.AllowUsers = []string{"root", "bad user"} }},
		{"files.scan_exclude", func(o *Options) { o.Files.ScanExclude = []string{"relative/path"} }},
		{"files.scan_exclude", func(o *Options) { o.Files.ScanExclude = []string{"/"} }},
		{"files.scan_exclude", func(o *Options) { o.Files.ScanExclude = []string{"/a b"} }},
		{"files.scan_exclude", func(o *Options) { o.Files.ScanExclude = []string{"/x'"} }},
		{"files.scan_timeout", func(o *Options) { o.Files.ScanTimeout = "5" }},
		{"files.scan_timeout", func(o *Options) { o.Files.ScanTimeout = "500ms" }},
		{"files.scan_timeout", func(o *Options) { o.Files.ScanTimeout = "1h" }},
		{"services.allow", func(o *Options) { o.Services.Allow = []string{"ngnix"} }},
		{"banners.text", func(o *Options) { o.Banners.Text = `Welcome to \n running \r` }},
		{"banners.text", func(o *Options) { o.Banners.Text = "Debian server, authorized use only" }},
		{"banners.motd", func(o *Options) { o.Banners.Motd = "Built on Ubuntu" }},
		{"banners.motd", func(o *Options) { o.Banners.Motd = "kernel \\v" }},
		{"packages.install", func(o *Options) { o.Packages.Install = []string{"curl", "Bad_Name"} }},
		{"packages.install", func(o *Options) { o.Packages.Install = []string{"curl; rm -rf /"} }},
		{"packages.remove", func(o *Options) { o.Packages.Remove = []string{"-x"} }},
		{"packages.remove", func(o *Options) { o.Packages.Install = []string{"jq"}; o.Packages.Remove = []string{"jq"} }},
		{"packages.remove", func(o *Options) { o.Packages.Remove = []string{"sudo"} }},
		{"packages.remove", func(o *Options) { o.Packages.Remove = []string{"openssh-server"} }},
		{"timezone.name", func(o *Options) { o.Timezone.Name = "../../etc/passwd" }},
		{"timezone.name", func(o *Options) { o.Timezone.Name = "Europe/Paris; reboot" }},
		{"timezone.name", func(o *Options) { o.Timezone.Name = "/UTC" }},
		{"timezone.name", func(o *Options) { o.Timezone.Name = "Europe/" }},
		{"build_info.build_id", func(o *Options) { o.BuildInfo.BuildID = "it's" }},
		{"build_info.build_id", func(o *Options) { o.BuildInfo.BuildID = "two\nlines" }},
		{"build_info.values", func(o *Options) { o.BuildInfo.Values = map[string]string{"team": "x"} }},
		{"build_info.values", func(o *Options) { o.BuildInfo.Values = map[string]string{"GOLDEN_OS": "x"} }},
		{"build_info.values", func(o *Options) { o.BuildInfo.Values = map[string]string{"TEAM": `back\slash`} }},
	}
	for _, c := range cases {
		var o Options
		c.set(&o)
		err := o.Validate()
		if err == nil {
			t.Errorf("%s: no error for %+v", c.option, o)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.option+":") {
			t.Errorf("%s: error does not start with the option name: %v", c.option, err)
		}
	}
}

func TestControlsBValidValuesPass(t *testing.T) {
	valid := []func(o *Options){
		func(o *Options) {},
		func(o *Options) {
			o.PAM = PAMOptions{MinLen: 16, MinClass: 3, DifOK: 5, MaxRepeat: 2, MaxSequence: 4, FaillockDeny: 3,
				FaillockUnlockTime: 1800, FaillockRootUnlockTime: 120, Remember: 5}
		},
		func(o *Options) {
			o.Login = LoginOptions{PassMaxDays: 90, PassMinDays: 7, PassWarnAge: 14, EncryptMethod: "SHA512",
				InactiveDays: 45, Umask: "0077", ShellTimeout: 600}
		},
		func(o *Options) {
			o.Sudo = SudoOptions{LogFile: "/var/log/sudo/commands.log", TimestampTimeout: 5, SuGroup: "wheel"}
		},
		func(o *Options) { o.Timezone.Name = "UTC" },
		func(o *Options) { o.Timezone.Name = "Etc/GMT+5" },
		func(o *Options) {
			o.Packages.Install = []string{}
			o.Packages.Remove = []string{"telnet", "libfoo:amd64"}
		},
		func(o *Options) { o.Services.Allow = []string{"apache2", "cups", "rpcbind"} },
		func(o *Options) { o.Files.ScanTimeout = "1m" },
		func(o *Options) { o.Banners.Text = "Authorized use only.\nAll activity is recorded." },
	}
	for i, set := range valid {
		var o Options
		set(&o)
		if err := o.Validate(); err != nil {
			t.Errorf("case %d: unexpected error: %v", i, err)
		}
	}
}

func TestControlsBShellParamsDefaults(t *testing.T) {
	params := map[string]string{}
	for _, p := range (&Options{}).ShellParams() {
		params[p.Name] = p.Value
	}
	want := map[string]string{
		"PAM_MINLEN": "14", "PAM_MINCLASS": "4", "PAM_DIFOK": "2", "PAM_MAXREPEAT": "3", "PAM_MAXSEQUENCE": "3",
		"PAM_FAILLOCK_DENY": "5", "PAM_FAILLOCK_UNLOCK_TIME": "900", "PAM_FAILLOCK_ROOT_UNLOCK_TIME": "60", "PAM_REMEMBER": "24",
		"LOGIN_PASS_MAX_DAYS": "365", "LOGIN_PASS_MIN_DAYS": "1", "LOGIN_PASS_WARN_AGE": "7", "LOGIN_ENCRYPT_METHOD": "auto",
		"LOGIN_INACTIVE_DAYS": "30", "LOGIN_UMASK": "027", "LOGIN_SHELL_TIMEOUT": "900", "LOGIN_APPLY_TO_EXISTING_USERS": "0",
		"SUDO_LOGFILE": "/var/log/sudo.log", "SUDO_TIMESTAMP_TIMEOUT": "15", "SUDO_SU_GROUP": "sugroup",
		"CRON_ALLOW_USERS":   "root",
		"FILES_SCAN_EXCLUDE": "", "FILES_SCAN_TIMEOUT": "60",
		"SERVICES_ALLOW": "",
		"BANNERS_TEXT":   bannersDefaultText, "BANNERS_MOTD": bannersDefaultText,
		"PACKAGES_INSTALL": "ca-certificates curl wget git vim htop tree unzip jq gnupg lsb-release python3-venv rsyslog",
		"PACKAGES_REMOVE":  "", "PACKAGES_UNATTENDED_UPGRADES": "0",
		"TIMEZONE_NAME":       "UTC",
		"BUILD_INFO_BUILD_ID": "", "BUILD_INFO_VALUES": "",
	}
	for name, v := range want {
		got, ok := params[name]
		if !ok {
			t.Errorf("%s: not a shell parameter", name)
		} else if got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
}

func TestControlsBShellParamsFromOptions(t *testing.T) {
	o := Options{
		PAM:       PAMOptions{MinLen: 20},
		Login:     LoginOptions{ApplyToExistingUsers: true, Umask: "077"},
		Files:     FilesOptions{ScanExclude: []string{"/srv", "/data/*"}, ScanTimeout: "1500ms"},
		Cron:      CronOptions{AllowUsers: []string{"root", "deploy"}},
		Banners:   BannersOptions{Text: "Keep out."},
		Packages:  PackagesOptions{Install: []string{}},
		BuildInfo: BuildInfoOptions{Values: map[string]string{"TEAM": "platform", "APP": "web"}},
	}
	params := map[string]string{}
	for _, p := range o.ShellParams() {
		params[p.Name] = p.Value
	}
	want := map[string]string{
		"PAM_MINLEN": "20", "PAM_REMEMBER": "24", "LOGIN_APPLY_TO_EXISTING_USERS": "1", "LOGIN_UMASK": "077",
		"FILES_SCAN_EXCLUDE": "/srv /data/*", "FILES_SCAN_TIMEOUT": "2", // rounded up to whole seconds
		"CRON_ALLOW_USERS": "root deploy", "BANNERS_TEXT": "Keep out.", "BANNERS_MOTD": "Keep out.",
		"PACKAGES_INSTALL":  "", // an explicit empty list installs nothing
		"BUILD_INFO_VALUES": "APP='web'\nTEAM='platform'",
	}
	for name, v := range want {
		if got := params[name]; got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
}

var cisIDPattern = regexp.MustCompile(`^[1-7](\.[0-9]+){1,4}$`)

// The catalogue of group B: ids, levels, OS lists and references are well formed.
func TestControlsBCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range controlsBModules {
		m := moduleByName(t, name)
		if m.Description == "" || len(m.Controls) == 0 {
			t.Errorf("module %s: no description or no controls", name)
		}
		for _, c := range m.Controls {
			if !strings.HasPrefix(c.ID, name+".") || seen[c.ID] {
				t.Errorf("%s: id must start with %q and be unique", c.ID, name+".")
			}
			seen[c.ID] = true
			if c.Module != name || c.Title == "" || (c.Level != 1 && c.Level != 2) || len(c.OS) == 0 {
				t.Errorf("%s: module %q, title %q, level %d, OS %v", c.ID, c.Module, c.Title, c.Level, c.OS)
			}
			for _, r := range c.Refs {
				if !cisIDPattern.MatchString(r.ID) || (r.Version != "v2.0.0" && r.Version != "v1.1.0") {
					t.Errorf("%s: bad reference %v", c.ID, r)
				}
			}
			// Every CIS control but the Ubuntu-only ones cites both benchmarks.
			if len(c.Refs) == 1 && (len(c.OS) != 1 || c.OS[0] != "ubuntu") {
				t.Errorf("%s: one reference only: %v", c.ID, c.Refs)
			}
		}
	}
	// The modules that implement no benchmark item, and those that do.
	for _, name := range []string{"packages", "timezone", "build_info"} {
		for _, c := range moduleByName(t, name).Controls {
			if len(c.Refs) != 0 {
				t.Errorf("%s: cites %v but the benchmarks have no such item", c.ID, c.Refs)
			}
		}
	}
	for _, name := range []string{"pam", "login", "sudo", "cron", "files", "services", "banners"} {
		for _, c := range moduleByName(t, name).Controls {
			if len(c.Refs) == 0 && withoutCISRef[c.ID] == "" {
				t.Errorf("%s: no benchmark reference", c.ID)
			}
		}
	}
}

// Controls whose verdict the runtime cannot give back (a report-only scan) have no fix, so the
// engine reports them failed with "no automatic fix" instead of pretending to fix them.
func TestControlsBReportOnlyControls(t *testing.T) {
	reportOnly := map[string]bool{
		"files.world-writable": true, "files.unowned": true, "files.passwd-groups-exist": true,
		"files.shadow-group-empty": true, "files.unique-uids": true, "files.unique-gids": true,
		"files.unique-user-names": true, "files.unique-group-names": true,
	}
	for _, name := range controlsBModules {
		for _, c := range moduleByName(t, name).Controls {
			if reportOnly[c.ID] != (strings.TrimSpace(c.Fix) == "") {
				t.Errorf("%s: report-only %v but fix %q", c.ID, reportOnly[c.ID], c.Fix)
			}
		}
	}
}

// settingAwk decides the pwquality, faillock and login.defs controls: run it (with Debian's
// mawk, the awk of the targets) on configuration files written the ways those files are written.
func TestSettingAwkVerdicts(t *testing.T) {
	awk := requireTool(t, "mawk")
	cases := []struct {
		name, content, key, op, want string
		ok                           bool
	}{
		{"equal", "minlen = 14\n", "minlen", "ge", "14", true},
		{"stricter kept", "minlen=20\n", "minlen", "ge", "14", true},
		{"weaker", "minlen = 12\n", "minlen", "ge", "14", false},
		{"unset", "# minlen = 20\ndifok = 3\n", "minlen", "ge", "14", false},
		{"one weak occurrence among two", "minlen = 16\nminlen = 8\n", "minlen", "ge", "14", false},
		{"another key with the same prefix", "minlength = 20\n", "minlen", "ge", "14", false},
		{"trailing comment", "minlen = 15 # site policy\n", "minlen", "ge", "14", true},
		{"not a number", "minlen = lots\n", "minlen", "ge", "14", false},
		{"deny lower", "deny = 3\n", "deny", "le", "5", true},
		{"deny higher", "deny = 6\n", "deny", "le", "5", false},
		{"deny zero disables", "deny = 0\n", "deny", "le", "5", false},
		{"unlock never", "unlock_time = 0\n", "unlock_time", "zero_or_ge", "900", true},
		{"unlock short", "unlock_time = 600\n", "unlock_time", "zero_or_ge", "900", false},
		{"unlock long", "unlock_time = 1800\n", "unlock_time", "zero_or_ge", "900", true},
		{"dictcheck default", "minlen = 14\n", "dictcheck", "nonzero", "1", true},
		{"dictcheck off", "dictcheck = 0\n", "dictcheck", "nonzero", "1", false},
		{"flag present", "  enforce_for_root\n", "enforce_for_root", "flag", "", true},
		{"flag commented", "# enforce_for_root\n", "enforce_for_root", "flag", "", false},
		{"login.defs tab", "PASS_MAX_DAYS\t99999\n", "PASS_MAX_DAYS", "le", "365", false},
		{"login.defs space", "PASS_MAX_DAYS 90\n", "PASS_MAX_DAYS", "le", "365", true},
		{"exact", "ENCRYPT_METHOD YESCRYPT\n", "ENCRYPT_METHOD", "eq", "YESCRYPT", true},
	}
	dir := t.TempDir()
	for i, c := range cases {
		path := filepath.Join(dir, fmt.Sprintf("case%d.conf", i))
		if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(awk, "-v", "key="+c.key, "-v", "op="+c.op, "-v", "want="+c.want, "-v", "mod=",
			settingAwk, path).CombinedOutput()
		if got := err == nil; got != c.ok {
			t.Errorf("%s: compliant %v, want %v (output %q, err %v)", c.name, got, c.ok, out, err)
		}
		if len(out) == 0 {
			t.Errorf("%s: no evidence printed", c.name)
		}
	}
}

// sudoDefaultAwk reads the effective global Defaults the way sudo does: the last setting wins,
// per-user Defaults do not count.
func TestSudoDefaultAwk(t *testing.T) {
	awk := requireTool(t, "mawk")
	dir := t.TempDir()
	main := filepath.Join(dir, "sudoers")
	dropIn := filepath.Join(dir, "golden")
	writeFile(t, main, "Defaults\tenv_reset\nDefaults use_pty, logfile = \"/var/log/a.log\"\nDefaults:admin !use_pty\n# Defaults !use_pty\n", 0o600)
	writeFile(t, dropIn, "Defaults timestamp_timeout=5\nDefaults logfile=\"/var/log/sudo.log\"\n", 0o600)
	for key, want := range map[string]string{"use_pty": "on", "logfile": "/var/log/sudo.log", "timestamp_timeout": "5", "requiretty": ""} {
		out, err := exec.Command(awk, "-v", "key="+key, sudoDefaultAwk, main, dropIn).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", key, err, out)
		}
		if got := strings.SplitN(string(out), "\n", 2)[0]; got != want {
			t.Errorf("%s: effective %q, want %q (output %q)", key, got, want, out)
		}
	}
	writeFile(t, dropIn, "Defaults !use_pty\n", 0o600)
	out, _ := exec.Command(awk, "-v", "key=use_pty", sudoDefaultAwk, main, dropIn).CombinedOutput()
	if got := strings.SplitN(string(out), "\n", 2)[0]; got != "off" {
		t.Errorf("a later !use_pty: effective %q, want off", got)
	}
}
