package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// validateTemplate builds an image with golden-ebs (without connecting: the simulator's AMI) and
// validates it with golden-validate, whose instance is the Debian 12 target (the simulator's
// fixed-address mode), reached with the lab's key. probes are the post-processor's body, after
// what follows it in the build.
func validateTemplate(probes, after string) string {
	return `packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

variable "host" { type = string }
variable "port" { type = number }
variable "user" { type = string }
variable "key"  { type = string }

source "golden-ebs" "test" {
  aws_polling {
    delay_seconds = 1
  }
` + noneSource + `
}

build {
  sources = ["source.golden-ebs.test"]

  post-processor "golden-validate" {
    aws_polling {
      delay_seconds = 1
    }
    ssh_username         = var.user
    ssh_port             = var.port
    ssh_private_key_file = var.key
    ssh_timeout          = "2m"
    probe_timeout        = "3s"
    probe_interval       = "1s"
    junit_report         = "reports/validate.xml"
    json_report          = "reports/validate.json"
    markdown_report      = "reports/validate.md"
` + probes + `
  }
` + after + `
}
`
}

const passingProbes = `
    service {
      name    = "ssh"
      running = true
      enabled = true
    }
    file {
      path  = "/etc/passwd"
      mode  = "0644"
      owner = "root"
    }
    command {
      command = "id -u"
      stdout  = ["/^0$/"]
    }
    sysctl {
      name  = "net.ipv4.ip_forward"
      value = "0"
    }
    required_tags = ["Team=platform", "golden:build-id"]
`

// TestValidateGatesTheImage runs golden-ebs then golden-validate with the real packer binary:
// every probe passing tags the image and its snapshots passed and passes the artifact on; a
// failing probe fails the build, tags failed, names the probe in every report, and on_failure
// deprecates the image. Neither run leaves a temporary resource behind.
func TestValidateGatesTheImage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	target := lab.Target(t)
	var sim *ec2sim.Server
	var p *lab.PackerEnv
	// Each build has a simulator of its own: both name their image alike.
	build := func(t *testing.T, name, probes, after string) lab.Result {
		sim = ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays, InstanceAddress: target.Host})
		p = lab.Packer(t)
		p.UseSim(sim)
		file := p.WriteFile(t, name, validateTemplate(probes, after))
		return p.Run(t, append(append([]string{"build", "-color=false"}, target.PackerVars()...), file)...)
	}

	t.Run("passing", func(t *testing.T) {
		res := build(t, "pass.pkr.hcl", passingProbes, "")
		if res.ExitCode != 0 {
			t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
		}
		img := lastImage(t, sim)
		if img.Tags[goldentag.Validation] != goldentag.ValidationPassed || img.Tags[goldentag.ValidatedAt] == "" {
			t.Errorf("image tags = %v, want %s = passed with a timestamp", img.Tags, goldentag.Validation)
		}
		for _, bd := range img.BlockDevices {
			if sn, _ := sim.Snapshot(ebsRegion, bd.SnapshotID); sn.Tags[goldentag.Validation] != goldentag.ValidationPassed {
				t.Errorf("snapshot %s tags = %v", sn.ID, sn.Tags)
			}
		}
		v, err := report.ParseValidation([]byte(p.ReadFile(t, "reports/validate.json")))
		if err != nil {
			t.Fatal(err)
		}
		if !v.Passed || len(v.Targets) != 1 || len(v.Targets[0].Probes) != 6 {
			t.Errorf("JSON report: %+v", v)
		}
		if junit := p.ReadFile(t, "reports/validate.xml"); strings.Count(junit, "<testcase ") != 6 || strings.Contains(junit, "<failure") {
			t.Errorf("JUnit report:\n%s", junit)
		}
		for _, want := range []string{"PASS service \"ssh\"", "# golden-validate: passed", "Tagged us-east-1:" + img.ID,
			"to be running: running after", "the status checks of instance", "The image has no cloud-init"} {
			if !strings.Contains(res.Output, want) {
				t.Errorf("output lacks %q:\n%s", want, res.Output)
			}
		}
		if left := leftovers(sim, ebsRegion); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})

	t.Run("failing", func(t *testing.T) {
		res := build(t, "fail.pkr.hcl", passingProbes+`
    service {
      name = "nonexistent"
    }
    on_failure = "deprecate"
`,
			// Packer destroys the artifact of a build whose post-processors all failed, whatever
			// keep_input_artifact says; a post-processor that keeps it keeps it.
			`  post-processor "manifest" {
    output = "manifest.json"
  }`)
		if res.ExitCode == 0 {
			t.Fatalf("packer build passed with a failing probe:\n%s", res.Output)
		}
		img := lastImage(t, sim)
		if img.Tags[goldentag.Validation] != goldentag.ValidationFailed {
			t.Errorf("image tags = %v, want %s = failed", img.Tags, goldentag.Validation)
		}
		if img.DeprecationTime.IsZero() {
			t.Errorf("on_failure = deprecate did not deprecate %s", img.ID)
		}
		probe := `service "nonexistent"`
		if !strings.Contains(flat(res.Output), "validation failed on us-east-1/t3.micro: 1 of 7 probes failed: "+probe+" (no unit nonexistent is installed)") {
			t.Errorf("the error does not name the failed probe:\n%s", res.Output)
		}
		v, err := report.ParseValidation([]byte(p.ReadFile(t, "reports/validate.json")))
		if err != nil {
			t.Fatal(err)
		}
		if v.Passed || len(v.Targets) != 1 || len(v.Targets[0].Failed()) != 1 || v.Targets[0].Failed()[0].ID() != probe {
			t.Errorf("JSON report: %+v", v)
		}
		if junit := p.ReadFile(t, "reports/validate.xml"); !strings.Contains(junit, `<failure message="no unit nonexistent is installed"`) ||
			!strings.Contains(junit, fmt.Sprintf("name=%q", strings.ReplaceAll(probe, `"`, "&#34;"))) {
			t.Errorf("JUnit report does not name the failed probe:\n%s", junit)
		}
		if md := p.ReadFile(t, "reports/validate.md"); !strings.Contains(md, "# golden-validate: FAILED") || !strings.Contains(md, "`"+probe+"`") {
			t.Errorf("Markdown report:\n%s", md)
		}
		if left := leftovers(sim, ebsRegion); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// TestValidateDeregistersAFailedImage: with on_failure = "deregister", a failing probe makes
// golden-validate itself deregister the image and delete its snapshots (a manifest
// post-processor keeps the artifact, so that Packer's own destroy of an unkept artifact is not
// what removes it), and leaves no temporary resource behind.
func TestValidateDeregistersAFailedImage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	target := lab.Target(t)
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays, InstanceAddress: target.Host})
	p := lab.Packer(t)
	p.UseSim(sim)
	file := p.WriteFile(t, "deregister.pkr.hcl", validateTemplate(passingProbes+`
    service {
      name = "nonexistent"
    }
    on_failure = "deregister"
`, `  post-processor "manifest" {
    output = "manifest.json"
  }`))
	res := p.Run(t, append(append([]string{"build", "-color=false"}, target.PackerVars()...), file)...)
	if res.ExitCode == 0 {
		t.Fatalf("packer build passed with a failing probe:\n%s", res.Output)
	}
	m := regexp.MustCompile(`on_failure: deregistered us-east-1:(ami-[0-9a-f]+) and deleted its (\d+) snapshot\(s\)`).FindStringSubmatch(res.Output)
	if m == nil || m[2] == "0" {
		t.Fatalf("golden-validate did not say it deregistered the image and deleted its snapshots:\n%s", res.Output)
	}
	if img, found := sim.Image(ebsRegion, m[1]); found {
		t.Errorf("image %s still exists after on_failure = deregister: %+v", m[1], img)
	}
	if left := builtImages(sim, ebsRegion); len(left) > 0 {
		t.Errorf("built images left: %+v", left)
	}
	// The gate tags the snapshots failed before it deletes them: none of them may be left.
	for _, sn := range sim.Snapshots(ebsRegion) {
		if sn.Tags[goldentag.Validation] != "" {
			t.Errorf("snapshot %s of the failed image still exists: %v", sn.ID, sn.Tags)
		}
	}
	if left := leftovers(sim, ebsRegion); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// lastImage is the image the build made.
func lastImage(t *testing.T, sim *ec2sim.Server) ec2sim.Image {
	t.Helper()
	images := builtImages(sim, ebsRegion)
	if len(images) != 1 {
		t.Fatalf("%d images were built, want 1", len(images))
	}
	return images[0]
}

// TestValidateRejectsBadInput runs `packer validate` on golden-validate blocks a user could write
// by mistake: each fails with a message naming the option, without calling AWS; the example
// template is valid.
func TestValidateRejectsBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	p := lab.Packer(t)
	p.UseSim(sim)
	goss := p.WriteFile(t, "goss.yaml", "service:\n  sshd:\n    running: true\ninterface:\n  eth0:\n    exists: true\n")
	vars := []string{"-var", "host=192.0.2.1", "-var", "port=22", "-var", "user=admin", "-var", "key=/dev/null"}
	cases := []struct{ name, body, want string }{
		{"on_failure", passingProbes + `on_failure = "delete"`, `on_failure: "delete" is not one of keep, deprecate, deregister`},
		{"target", passingProbes + `target {
  region = "mars-1"
}`, `target[0].region: unknown region "mars-1"`},
		{"probe attribute", `service {
  name    = "ssh"
  timeout = "soon"
}`, `service "ssh": timeout: "soon" is not a duration like 90s or 2m`},
		{"goss resource", `goss_file = "` + goss + `"`, `line 4: goss resource type "interface" has no golden-validate probe`},
		{"no probe", ``, `no probe: add probe blocks`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := p.WriteFile(t, fmt.Sprintf("bad-%d.pkr.hcl", i), validateTemplate(tc.body, ""))
			res := p.Run(t, append(append([]string{"validate"}, vars...), file)...)
			if res.ExitCode != 1 {
				t.Fatalf("packer validate exited %d, want 1:\n%s", res.ExitCode, res.Output)
			}
			if !strings.Contains(flat(res.Output), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, res.Output)
			}
		})
	}
	example := filepath.Join(lab.RepoRoot(t), "example", "validate.pkr.hcl")
	if res := p.Run(t, "validate", example); res.ExitCode != 0 {
		t.Errorf("packer validate example/validate.pkr.hcl:\n%s", res.Output)
	}
	if calls := sim.CallCounts(); len(calls) > 0 {
		t.Errorf("validate called AWS: %v", calls)
	}
}

// TestValidateAmazonEBSArtifact validates the image of packer-plugin-amazon's amazon-ebs builder:
// its artifact reaches golden-validate from another plugin process, over Packer's plugin RPC.
func TestValidateAmazonEBSArtifact(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	target := lab.Target(t)
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays, InstanceAddress: target.Host})
	p := lab.Packer(t)
	p.UseSim(sim)
	// Installed once per test binary: a second `packer plugins install` into the shared plugin
	// folder while a parallel test runs the plugin fails with "text file busy".
	p.UseAmazonPlugin(t)
	source, _ := sim.Parameter(ebsRegion, "/aws/service/debian/release/12/latest/amd64")
	template := strings.Replace(validateTemplate(passingProbes, ""), `source "golden-ebs" "test" {
  aws_polling {
    delay_seconds = 1
  }
`+noneSource+`
}`, `source "amazon-ebs" "test" {
  region                     = "`+ebsRegion+`"
  custom_endpoint_ec2        = "`+sim.URL()+`"
  skip_credential_validation = true
  source_ami                 = "`+source+`"
  instance_type              = "t3.micro"
  ami_name                   = "amazon-ebs-e2e"
  communicator               = "none"
  tags                       = { Team = "platform" }
  aws_polling {
    delay_seconds = 1
  }
}`, 1)
	template = strings.Replace(template, "source.golden-ebs.test", "source.amazon-ebs.test", 1)
	template = strings.Replace(template, `required_tags = ["Team=platform", "golden:build-id"]`, `required_tags = ["Team=platform"]`, 1)
	template = strings.Replace(template, "  required_plugins {\n", "  required_plugins {\n    amazon = {\n      source  = \"github.com/hashicorp/amazon\"\n      version = \">= 1.0.0\"\n    }\n", 1)
	file := p.WriteFile(t, "amazon.pkr.hcl", template)
	res := p.Run(t, append(append([]string{"build", "-color=false"}, target.PackerVars()...), file)...)
	if res.ExitCode != 0 {
		t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
	}
	var img ec2sim.Image
	for _, im := range sim.Images(ebsRegion) {
		if im.Name == "amazon-ebs-e2e" {
			img = im
		}
	}
	if img.ID == "" || img.Tags[goldentag.Validation] != goldentag.ValidationPassed {
		t.Errorf("the amazon-ebs image %s has tags %v, want %s = passed\n%s", img.ID, img.Tags, goldentag.Validation, res.Output)
	}
	if left := leftovers(sim, ebsRegion); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
