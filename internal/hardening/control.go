// Package hardening holds the control catalogue of golden-harden: every control as data (id, title,
// benchmark references, level, module, OS families, a POSIX shell check and fix whose code lives in
// embedded files under scripts/), the profiles that select them, and the rendering of one remote
// script that checks, fixes and re-checks them all.
package hardening

import (
	"fmt"
	"sort"
	"strings"
)

// Ref ties a control to one benchmark item. CIS renumbers items between benchmark versions, so a
// control keeps one Ref per benchmark version it was checked against.
type Ref struct {
	Benchmark string // e.g. "CIS Debian Linux 12"
	Version   string // e.g. "v1.1.0"
	ID        string // e.g. "5.1.20"
}

func (r Ref) String() string { return fmt.Sprintf("%s %s %s", r.Benchmark, r.Version, r.ID) }

// Control is one hardening rule.
//
// Check and Fix are POSIX shell snippets rendered into one remote script as function bodies,
// written in files under scripts/<module>/ (see scripts.go). They see the module's parameters as
// shell variables (see Options.ShellParams) and the runtime helpers (g_* functions, see runtime.sh).
// Check exit codes:
//
//	0  compliant
//	1  not compliant (Fix runs in enforce mode, then Check runs again)
//	2  not applicable on this host (reported as skipped; the first line of stdout says why)
//	3  configured persistently, in force only after the next boot (reported as pass, flagged
//	   next_boot): for what a container or a running system cannot apply live (auditd -e 2,
//	   kernel.* sysctls inside a container)
//
// Whatever Check prints on stdout is kept (truncated) as the control's evidence.
type Control struct {
	ID     string   // stable id "<module>.<name>", e.g. "ssh.permit-root-login"; never renumbered
	Title  string   // what the control ensures, as a benchmark would title it
	Refs   []Ref    // benchmark items this control implements
	Level  int      // CIS profile level: 1 or 2
	Module string   // module name this control belongs to
	OS     []string // OS families it applies to: "debian", "ubuntu", "amzn", "rhel"; empty = all
	Check  string   // shell: exit 0 when compliant (see the exit codes above)
	Fix    string   // shell: make it compliant; must be idempotent and back up what it edits
}

// Module groups the controls of one area (ssh, firewall, sysctl...). The module is the unit of
// change: after its fixes, Finalize validates and applies the new configuration (sshd -t and
// reload, ufw reload...); when Finalize fails, every file the module changed is restored from its
// backup and its fixed controls are reported failed.
type Module struct {
	Name        string
	Description string
	Order       int       // modules run in ascending Order (packages before the daemons they configure)
	Finalize    string    // shell run once after the module's fixes when any fix ran; may be empty
	Controls    []Control // in the order they are checked
	// Background lets the module's Finalize, its re-checks and a rollback run beside the modules
	// after it (on a machine with two CPUs or more): for a Finalize that waits for a slow daemon,
	// in a module whose files, services and packages no later module reads or changes.
	Background bool
}

var registry = map[string]Module{}

// register adds a module to the catalogue; module files call it from init.
func register(m Module) {
	if _, dup := registry[m.Name]; dup {
		panic("hardening: module registered twice: " + m.Name)
	}
	for i := range m.Controls {
		m.Controls[i].Module = m.Name
	}
	registry[m.Name] = m
}

// Modules returns every registered module in execution order.
func Modules() []Module {
	out := make([]Module, 0, len(registry))
	for _, m := range registry {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// packagesInstalledCheck is the check of a control that ensures packages are installed: compliant
// when all are, otherwise the evidence names the missing ones.
func packagesInstalledCheck(pkgs ...string) string {
	return embeddedWith("packages/package-check.sh", "_pkg_list", strings.Join(pkgs, " "))
}
