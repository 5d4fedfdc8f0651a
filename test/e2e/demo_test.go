package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// TestDemoPipeline runs what `make demo` runs: example/demo.pkr.hcl with the real packer binary
// against the simulator seeded from example/demo-seed.json and a Debian 12 target, so the demo
// cannot rot unnoticed.
func TestDemoPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	lab.RequireLab(t)
	root := lab.RepoRoot(t)

	seed, err := ec2sim.ReadSeedFile(filepath.Join(root, "example", "demo-seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	if err := sim.Seed(seed); err != nil {
		t.Fatal(err)
	}
	target := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
	p := lab.Packer(t)
	p.UseSim(sim)

	reports := filepath.Join(p.Dir, "reports")
	args := append([]string{"build", "-color=false", "-var", "report_dir=" + reports},
		target.PackerVarsNamed(lab.SSHVarNames{Host: "ssh_host", Port: "ssh_port", User: "ssh_username", Key: "ssh_private_key_file"})...)
	res := p.Run(t, append(args, filepath.Join(root, "example", "demo.pkr.hcl"))...)
	if res.ExitCode != 0 {
		t.Fatalf("packer build example/demo.pkr.hcl exited %d:\n%s", res.ExitCode, res.Output)
	}

	// The newest validated image, not the newer one that failed validation.
	if want := "layering on golden-debian-12-20261015 (ami-0a1b2c3d4e5f60002, score 98.5)"; !strings.Contains(res.Output, want) {
		t.Errorf("output lacks %q:\n%s", want, res.Output)
	}

	enforce := demoReport(t, p, "harden.json")
	if enforce.After.Failed != 0 || enforce.After.Fixed == 0 {
		t.Errorf("enforce run on a fresh target: want fixes and no failure, got %+v", enforce.After)
	}
	audit := demoReport(t, p, "audit.json")
	if audit.After.Fixed != 0 || audit.After.Failed != 0 || audit.After.Pass == 0 {
		t.Errorf("the audit after enforcing found work: %+v", audit.After)
	}
	for _, name := range []string{"harden.xml", "harden.md"} {
		if p.ReadFile(t, filepath.Join("reports", name)) == "" {
			t.Errorf("reports/%s is empty", name)
		}
	}
	// The image records what produced it, and who built it is the build user, not root.
	info := target.MustRun(t, "cat /etc/golden-build-info")
	for _, want := range []string{"GOLDEN_HARDEN_PROFILE='cis-level1-server'", "GOLDEN_PLUGIN_VERSION='0.1.0", "GOLDEN_BUILD_USER='" + target.User + "'"} {
		if !strings.Contains(info, want) {
			t.Errorf("/etc/golden-build-info lacks %s:\n%s", want, info)
		}
	}
	if calls := sim.Calls("DescribeImages"); calls == 0 {
		t.Error("the data source never asked the simulator for images")
	}
}

func demoReport(t *testing.T, p *lab.PackerEnv, name string) *report.Report {
	t.Helper()
	r, err := report.ParseJSON([]byte(p.ReadFile(t, filepath.Join("reports", name))))
	if err != nil {
		t.Fatalf("reports/%s: %v", name, err)
	}
	return r
}
