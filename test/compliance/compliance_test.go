package compliance

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.Main(m)) }

// selected is the comma-separated list in the environment variable name, def when it is unset or
// "all"; "example" stands for ExampleProfile. Unknown names fail the test: a typo must not scan
// nothing and pass.
func selected(t *testing.T, name string, def []string) []string {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" || v == "all" {
		return def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "example" {
			s = ExampleProfile
		}
		if !slices.Contains(def, s) {
			t.Fatalf("%s: unknown %q (want %s or all)", name, s, strings.Join(def, ", "))
		}
		out = append(out, s)
	}
	return out
}

// TestCompliance is `make compliance`: on fresh lab machines booted as EC2 boots the vendor's
// image, the scanners installed from the machine's archive, it hardens each machine (or not: the
// pristine row), reboots it, runs Lynis and (on Debian 12, whose content SSG carries) OpenSCAP
// live on it, and prints and writes the table. GOLDEN_COMPLIANCE_OSES and
// GOLDEN_COMPLIANCE_PROFILES (comma separated) narrow the rows; the rows of earlier runs that
// this one did not scan stay in the written table, each with its date. Slow (a machine takes 3-10
// minutes on two cores): skipped unless GOLDEN_COMPLIANCE=1. The targets fail the test for the
// example's row only, on the figures the scanners print; the other profiles are measured.
func TestCompliance(t *testing.T) {
	if testing.Short() || os.Getenv("GOLDEN_COMPLIANCE") != "1" {
		t.Skip("slow: `make compliance` runs it (GOLDEN_COMPLIANCE=1)")
	}
	lab.RequireLab(t)
	root := lab.RepoRoot(t)
	oses := selected(t, "GOLDEN_COMPLIANCE_OSES", OSes)
	rows := selected(t, "GOLDEN_COMPLIANCE_PROFILES", Rows)
	lab.PrepareImages(t, lab.Machines(t), oses...)
	commit := treeCommit(root)
	var machines []*Machine
	t.Run("scan", func(t *testing.T) {
		for _, osName := range oses {
			for _, profile := range rows {
				m := &Machine{OS: osName, Profile: profile}
				machines = append(machines, m)
				t.Run(osName+"/"+profile, func(t *testing.T) {
					t.Parallel()
					scanMachine(t, root, m)
					m.Commit = commit
				})
			}
		}
	})
	dir := os.Getenv("GOLDEN_COMPLIANCE_DIR")
	if dir == "" {
		dir = filepath.Join(root, "reports", "compliance")
	}
	table, err := ReadTable(dir)
	if err != nil {
		t.Fatal(err)
	}
	table.SSG = SSGVersion
	for _, m := range machines {
		if m.Lynis != nil {
			table.Put(*m)
		}
	}
	if err := table.Write(dir); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s\nwritten to %s/compliance.{json,md}\n", table.Markdown(), dir)
	for _, m := range machines {
		if m.Profile != ExampleProfile || m.Lynis == nil {
			continue
		}
		if m.Lynis.Index < LynisTarget {
			t.Errorf("%s, %s: Lynis prints %d, below %d", m.OS, m.Profile, m.Lynis.Index, LynisTarget)
		}
		if wantsOpenSCAP(m.OS) && (m.OpenSCAP == nil || m.OpenSCAP.Score < OpenSCAPTarget) {
			t.Errorf("%s, %s: OpenSCAP standard below %.0f as oscap prints it", m.OS, m.Profile, OpenSCAPTarget)
		}
	}
}

// wantsOpenSCAP: the SSG content pinned here is Debian 12's.
func wantsOpenSCAP(osName string) bool { return osName == "debian-12" }

// scanMachine boots a fresh machine, installs the scanners, hardens it with the profile (not for
// the pristine row), reboots it and scans it.
func scanMachine(t *testing.T, root string, m *Machine) {
	machine := lab.Machine(t, m.OS)
	target := machine.TargetHost
	if wantsOpenSCAP(m.OS) {
		PrepareOpenSCAP(t, target)
	}
	PrepareLynis(t, target)
	switch m.Profile {
	case Pristine:
	case ExampleProfile:
		hardenWithExample(t, root, target)
	default:
		hardenWithProfile(t, target, m.Profile)
	}
	target.Reboot(t)
	m.Facts = ReadFacts(t, target)
	m.Scanned = time.Now().UTC().Format(time.RFC3339)
	m.Load = hostLoad()
	if wantsOpenSCAP(m.OS) {
		o := ScanOpenSCAP(t, target, m.Facts)
		m.OpenSCAP = &o
		t.Logf("%s %s: OpenSCAP %.1f (%.1f)", m.OS, m.Profile, o.Score, o.Adjusted)
	}
	l := ScanLynis(t, target, m.Facts)
	m.Lynis = &l
	t.Logf("%s %s: Lynis %d (%d)", m.OS, m.Profile, l.Index, l.Adjusted)
}

// hardenWithExample runs the golden-harden block of the seed's pipeline (ExampleProfile) as it is
// written there, with the real packer binary, on the machine: the null builder over SSH stands in
// for golden-ebs's instance.
func hardenWithExample(t *testing.T, root string, target *lab.TargetHost) {
	src, err := os.ReadFile(filepath.Join(root, ExampleProfile))
	if err != nil {
		t.Fatal(err)
	}
	block, vars, err := HardenBlock(src, ExampleProfile)
	if err != nil {
		t.Fatal(err)
	}
	p := lab.Packer(t)
	file := p.WriteFile(t, "example.pkr.hcl", lab.NullSSHTemplate(block)+"\n"+vars)
	args := append([]string{"build", "-color=false", "-var", "report_dir=" + filepath.Join(p.Dir, "reports")}, target.PackerVars()...)
	if res := p.Run(t, append(args, file)...); res.ExitCode != 0 {
		t.Fatalf("packer build (%s) exited %d:\n%s", ExampleProfile, res.ExitCode, res.Output)
	}
}

func hardenWithProfile(t *testing.T, target *lab.TargetHost, profile string) {
	p := lab.Packer(t)
	file := p.WriteFile(t, "harden.pkr.hcl", lab.NullSSHTemplate(fmt.Sprintf(`  provisioner "golden-harden" {
    profile = %q
    firewall {
      allow = ["443/tcp"]
    }
    report = "harden.json"
  }`, profile)))
	if res := p.Run(t, append(append([]string{"build", "-color=false"}, target.PackerVars()...), file)...); res.ExitCode != 0 {
		t.Fatalf("packer build (%s) exited %d:\n%s", profile, res.ExitCode, res.Output)
	}
}
