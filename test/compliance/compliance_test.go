package compliance

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.Main(m)) }

// ExampleProfile names the row of example/demo.pkr.hcl, the seed pipeline rebuilt: that template
// itself hardens the machine, with its own profile and options.
const ExampleProfile = "example/demo.pkr.hcl"

// profiles are the rows of the table besides the example: every profile with default options
// (the SSH port of the build and 443/tcp allowed, as in the example).
var profiles = []string{"cis-level1-server", "cis-level2-server", "baseline"}

// TestCompliance is `make compliance`: on fresh lab machines as EC2 boots them, the scanners
// installed from the machine's archive, it hardens each machine (or not: the pristine row),
// reboots it, runs Lynis and OpenSCAP live on it, and prints and writes the table. Slow (Lynis
// alone takes minutes per machine): skipped unless GOLDEN_COMPLIANCE=1. The targets fail the test
// for the example's row only; the other profiles are measured.
func TestCompliance(t *testing.T) {
	if testing.Short() || os.Getenv("GOLDEN_COMPLIANCE") != "1" {
		t.Skip("slow: `make compliance` runs it (GOLDEN_COMPLIANCE=1)")
	}
	lab.RequireLab(t)
	root := lab.RepoRoot(t)
	const osName = "debian-12"
	rows := append([]string{Pristine, ExampleProfile}, profiles...)
	machines := make([]Machine, len(rows))
	t.Run(osName, func(t *testing.T) {
		for i, profile := range rows {
			t.Run(filepath.Base(profile), func(t *testing.T) {
				t.Parallel()
				machines[i] = scanMachine(t, root, osName, profile)
			})
		}
	})
	table := Table{SSG: SSGVersion, Machines: machines}
	dir := os.Getenv("GOLDEN_COMPLIANCE_DIR")
	if dir == "" {
		dir = filepath.Join(root, "reports", "compliance")
	}
	if err := table.Write(dir); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s\nwritten to %s/compliance.{json,md}\n", table.Markdown(), dir)
	for _, m := range machines {
		if m.Profile != ExampleProfile {
			continue
		}
		if m.Lynis == nil || m.Lynis.Adjusted < LynisTarget {
			t.Errorf("%s, %s: Lynis below %d", m.OS, m.Profile, LynisTarget)
		}
		if m.OpenSCAP == nil || m.OpenSCAP.Adjusted < OpenSCAPTarget {
			t.Errorf("%s, %s: OpenSCAP standard below %.0f", m.OS, m.Profile, OpenSCAPTarget)
		}
	}
}

// scanMachine boots a fresh machine, installs the scanners, hardens it with the profile (not for
// the pristine row), reboots it and scans it.
func scanMachine(t *testing.T, root, osName, profile string) Machine {
	target := lab.Target(t)
	PrepareOpenSCAP(t, target)
	PrepareLynis(t, target)
	switch profile {
	case Pristine:
	case ExampleProfile:
		hardenWithExample(t, root, target)
	default:
		hardenWithProfile(t, target, profile)
	}
	target.Reboot(t)
	m := Machine{OS: osName, Profile: profile, Facts: ReadFacts(t, target)}
	o := ScanOpenSCAP(t, target, m.Facts)
	l := ScanLynis(t, target, m.Facts)
	m.OpenSCAP, m.Lynis = &o, &l
	t.Logf("%s: Lynis %d (%d), OpenSCAP %.1f (%.1f)", profile, l.Index, l.Adjusted, o.Score, o.Adjusted)
	return m
}

// hardenWithExample runs example/demo.pkr.hcl as `make demo` does: the real packer binary, the
// simulator seeded from example/demo-seed.json, the machine as the SSH target.
func hardenWithExample(t *testing.T, root string, target *lab.TargetHost) {
	seed, err := ec2sim.ReadSeedFile(filepath.Join(root, "example", "demo-seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	if err := sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	p := lab.Packer(t)
	p.UseSim(sim)
	args := append([]string{"build", "-color=false", "-var", "report_dir=" + filepath.Join(p.Dir, "reports")},
		target.PackerVarsNamed(lab.SSHVarNames{Host: "ssh_host", Port: "ssh_port", User: "ssh_username", Key: "ssh_private_key_file"})...)
	if res := p.Run(t, append(args, filepath.Join(root, ExampleProfile))...); res.ExitCode != 0 {
		t.Fatalf("packer build %s exited %d:\n%s", ExampleProfile, res.ExitCode, res.Output)
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
