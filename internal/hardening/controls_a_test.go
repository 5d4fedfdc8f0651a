package hardening

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Modules written by this file's owner: rendered and linted together.
var controlsAModules = []string{"modules", "sysctl", "coredumps", "firewall", "ssh", "fail2ban", "chrony", "auditd", "accounting"}

func moduleByName(t *testing.T, name string) Module {
	t.Helper()
	m, ok := registry[name]
	if !ok {
		t.Fatalf("module %q is not registered", name)
	}
	return m
}

// renderModules renders a plan with the named modules (all their controls) and default options.
func renderModules(t *testing.T, opts Options, names ...string) string {
	t.Helper()
	var mods []Module
	for _, n := range names {
		mods = append(mods, moduleByName(t, n))
	}
	script, err := Render(Plan{
		Mode:      ModeEnforce,
		OS:        OSInfo{ID: "debian", VersionID: "12", Family: "debian"},
		BuildUser: "admin",
		SSHPort:   22,
		RunID:     "test-run",
		WorkDir:   "/tmp/golden-harden-test",
		Params:    opts.ShellParams(),
		Modules:   mods,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(script)
}

func TestControlsAShellcheckClean(t *testing.T) {
	for _, name := range controlsAModules {
		t.Run(name, func(t *testing.T) {
			assertShellcheckClean(t, renderModules(t, Options{}, name))
		})
	}
}

// The rendered script must also parse under dash, the /bin/sh of Debian and Ubuntu.
func TestControlsADashParses(t *testing.T) {
	dash, err := exec.LookPath("dash")
	if err != nil {
		t.Skip("dash is not installed")
	}
	script := renderModules(t, Options{}, controlsAModules...)
	path := filepath.Join(t.TempDir(), "harden.sh")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(dash, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("dash -n: %v\n%s", err, out)
	}
}

// Every control of these modules carries what the catalogue promises: an id under its module,
// a title, a level, the Debian-family OS list, a check and a fix, and references to both
// benchmark editions where it has any.
func TestControlsACatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, name := range controlsAModules {
		m := moduleByName(t, name)
		if len(m.Controls) == 0 {
			t.Errorf("module %s has no controls", name)
		}
		for _, c := range m.Controls {
			if !strings.HasPrefix(c.ID, name+".") || seen[c.ID] {
				t.Errorf("%s: bad or duplicate id", c.ID)
			}
			seen[c.ID] = true
			if c.Title == "" || (c.Level != 1 && c.Level != 2) || strings.TrimSpace(c.Check) == "" || strings.TrimSpace(c.Fix) == "" {
				t.Errorf("%s: title %q, level %d, check/fix present %v/%v", c.ID, c.Title, c.Level, c.Check != "", c.Fix != "")
			}
			if len(c.OS) != 2 || c.OS[0] != "debian" || c.OS[1] != "ubuntu" {
				t.Errorf("%s: OS %v", c.ID, c.OS)
			}
			for _, r := range c.Refs {
				if r.Version == "" || r.ID == "" || (r.Benchmark != benchUbuntu2204 && r.Benchmark != benchDebian12) {
					t.Errorf("%s: incomplete reference %+v", c.ID, r)
				}
			}
		}
	}
}

// wantOptionErrors asserts that validate returns exactly one error per case and that it names
// the option.
func wantOptionErrors(t *testing.T, errs []error, option string, n int) {
	t.Helper()
	if len(errs) != n {
		t.Fatalf("want %d errors naming %s, got %d: %v", n, option, len(errs), errs)
	}
	for _, err := range errs {
		if !strings.HasPrefix(err.Error(), option+":") {
			t.Errorf("error does not start with the option name %s: %v", option, err)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
