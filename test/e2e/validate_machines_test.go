package e2e

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// machineBuild is one pipeline of machinePipeline.
type machineBuild struct {
	// name is the image's name.
	name string
	// commands run in a shell provisioner before golden-harden, which hardens onlyControls;
	// after (none when empty) runs in a shell provisioner after it.
	commands, onlyControls, after string
	// copyTo (none when empty) are the regions golden-lifecycle copies the image to before
	// golden-validate, whose targets may then name them.
	copyTo string
	// probes is golden-validate's body after its common options.
	probes string
	// source (golden-ebs on Ubuntu 22.04 when empty) is the build's source block, selector its
	// name in the build's sources and plugins what required_plugins needs besides golden.
	source, selector, plugins string
}

// goldenEBSUbuntu is machinePipeline's source unless the build names another: golden-ebs on
// Ubuntu 22.04.
func goldenEBSUbuntu(name string) string {
	return `source "golden-ebs" "ubuntu" {
  source_os     = "ubuntu-22.04"
  instance_type = "t3.micro"
  ami_name      = "` + name + `"
  tags          = { Team = "platform" }
  ssh_timeout   = "5m"
  aws_polling {
    delay_seconds = 1
  }
}`
}

// machinePipeline builds an Ubuntu 22.04 image with golden-ebs on a lab machine, runs the shell
// commands and golden-harden of b on it, and validates the image with golden-validate (after
// golden-lifecycle's copies, if any), whose instances are new lab machines booted from the disk
// the build captured: cloud-init hands each golden-validate's own temporary key. A manifest
// post-processor keeps the image when the validation fails.
func machinePipeline(b machineBuild) string {
	after := ""
	if b.after != "" {
		after = `
  provisioner "shell" {
    inline = [` + b.after + `]
  }
`
	}
	copies := ""
	if b.copyTo != "" {
		copies = `    post-processor "golden-lifecycle" {
      copy_to       = [` + b.copyTo + `]
      poll_interval = "1s"
    }
`
	}
	if b.source == "" {
		b.source, b.selector = goldenEBSUbuntu(b.name), "source.golden-ebs.ubuntu"
	}
	return `packer {
  required_plugins {
` + b.plugins + `    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

` + b.source + `

build {
  sources = ["` + b.selector + `"]

  provisioner "shell" {
    inline = [` + b.commands + `]
  }

  provisioner "golden-harden" {
    only_controls = [` + b.onlyControls + `]
    report        = "reports/harden.json"
  }
` + after + `
  post-processors {
` + copies + `    post-processor "golden-validate" {
      ssh_username   = "ubuntu"
      ssh_timeout    = "5m"
      probe_timeout  = "20s"
      probe_interval = "2s"
      junit_report   = "reports/validate.xml"
      json_report    = "reports/validate.json"
      aws_polling {
        delay_seconds = 1
      }
` + b.probes + `
    }
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
`
}

// hardenedControls are golden-harden's controls in the image that passes: sshd's, and two network
// sysctls (a lab machine's network namespace is its own, as an instance's kernel is).
const hardenedControls = `"ssh", "sysctl.log-martians", "sysctl.send-redirects"`

// copyRegion is where golden-lifecycle copies the image that passes, for golden-validate's second
// target.
const copyRegion = "us-west-2"

// TestValidateBootsTheBuiltImage runs the pipeline on lab machines with the real packer binary:
// what the build persisted, golden-harden's controls among it, passes after the boot (the
// hardening audit too) on two targets at once, the build region and the copy golden-lifecycle
// made, each on an instance type of its own, and tags the image and its copy passed; a setting
// the build only applied at run time (`sysctl -w`), a hardened sshd setting a later provisioner
// undid on disk, and a service that does not exist fail the validation on the booted image, fail
// the build, tag the image failed and are named in the reports.
func TestValidateBootsTheBuiltImage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	ms := newMachineSim(t)
	p := lab.Packer(t)
	p.UseSim(ms.sim)
	imageIn := func(t *testing.T, region, name string) ec2sim.Image {
		t.Helper()
		for _, img := range ms.sim.Images(region) {
			if img.Name == name {
				return img
			}
		}
		t.Fatalf("no image %s in %s", name, region)
		return ec2sim.Image{}
	}
	image := func(t *testing.T, name string) map[string]string {
		t.Helper()
		return imageIn(t, lab.SimRegion, name).Tags
	}

	t.Run("persisted", func(t *testing.T) {
		file := p.WriteFile(t, "persisted.pkr.hcl", machinePipeline(machineBuild{name: "golden-persisted",
			commands: `"echo built-by-golden-ebs | sudo tee /etc/golden-build >/dev/null",
      "printf '[Unit]\\nDescription=golden marker\\n[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n' | sudo tee /etc/systemd/system/golden-marker.service >/dev/null",
      "sudo systemctl enable golden-marker.service"`,
			onlyControls: hardenedControls,
			copyTo:       `"` + copyRegion + `"`,
			probes: `
    target {
      region        = "` + lab.SimRegion + `"
      instance_type = "t3.micro"
    }
    target {
      region        = "` + copyRegion + `"
      instance_type = "t3.small"
    }
    file {
      path     = "/etc/golden-build"
      contents = ["built-by-golden-ebs"]
    }
    service {
      name    = "golden-marker"
      running = true
      enabled = true
    }
    service {
      name    = "ssh"
      running = true
    }
    imdsv2_enforced    = true
    no_build_leftovers = true
    hardening_audit    = true
    required_tags      = ["Team=platform"]
`}))
		const probes = 7
		targets := []string{lab.SimRegion + "/t3.micro", copyRegion + "/t3.small"}
		res := p.Run(t, "build", "-color=false", file)
		if res.ExitCode != 0 {
			t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
		}
		built := imageIn(t, lab.SimRegion, "golden-persisted")
		byRegion := map[string]ec2sim.Image{lab.SimRegion: built, copyRegion: imageIn(t, copyRegion, "golden-persisted")}
		for region, img := range byRegion {
			if img.Tags[goldentag.Validation] != goldentag.ValidationPassed {
				t.Errorf("%s: image %s tags = %v, want %s = passed", region, img.ID, img.Tags, goldentag.Validation)
			}
		}
		for _, tg := range targets {
			for _, want := range []string{"cloud-init to finish (cloud-init status --wait): done after", "PASS no_build_leftovers", "PASS imdsv2_enforced",
				`PASS hardening_audit "/var/log/golden/harden-report.json": all `} {
				if !strings.Contains(res.Output, tg+": "+want) {
					t.Errorf("output lacks %q:\n%s", tg+": "+want, res.Output)
				}
			}
		}
		// The targets run at once: each one's instance is launched before the other's probes end.
		for i, tg := range targets {
			other := targets[1-i]
			launched := strings.Index(res.Output, tg+": ")
			probed := strings.LastIndex(res.Output, other+": PASS ")
			if launched < 0 || probed < 0 || launched > probed {
				t.Errorf("%s started after %s had probed: the targets did not run in parallel:\n%s", tg, other, res.Output)
			}
		}
		v, err := report.ParseValidation([]byte(p.ReadFile(t, "reports/validate.json")))
		if err != nil {
			t.Fatal(err)
		}
		if !v.Passed || len(v.Targets) != len(targets) {
			t.Fatalf("JSON report: %+v", v)
		}
		for i, vt := range v.Targets {
			if vt.Name() != targets[i] || !vt.Passed || len(vt.Probes) != probes || vt.ImageID != byRegion[vt.Region].ID {
				t.Errorf("JSON report of %s (image %s): passed %v, %d probes, want %s on %s with %d passed probes",
					vt.Name(), vt.ImageID, vt.Passed, len(vt.Probes), targets[i], byRegion[vt.Region].ID, probes)
			}
			// The instance was a lab machine booted from the image of its region.
			var booted []string
			for _, in := range ms.sim.Instances(vt.Region) {
				if in.ImageID == vt.ImageID {
					booted = append(booted, in.ID)
				}
			}
			if len(booted) != 1 || booted[0] != vt.InstanceID {
				t.Errorf("%s: instances of %s: %v, want the report's %s", vt.Name(), vt.ImageID, booted, vt.InstanceID)
			}
		}
		junit := p.ReadFile(t, "reports/validate.xml")
		if strings.Count(junit, "<testsuite ") != len(targets) || strings.Count(junit, "<testcase ") != probes*len(targets) || strings.Contains(junit, "<failure") {
			t.Errorf("JUnit report, want %d suites of %d passing cases:\n%s", len(targets), probes, junit)
		}
		for _, region := range []string{lab.SimRegion, copyRegion} {
			if left := leftovers(ms.sim, region); len(left) > 0 {
				t.Errorf("%s: left behind: %v", region, left)
			}
		}
	})

	t.Run("runtime_only", func(t *testing.T) {
		file := p.WriteFile(t, "runtime.pkr.hcl", machinePipeline(machineBuild{name: "golden-runtime-only",
			commands: `"sudo sysctl -w net.ipv4.conf.all.log_martians=1", "sysctl -n net.ipv4.conf.all.log_martians"`,
			// sshd reads its configuration when it starts: the running one keeps MaxAuthTries 4
			// until the boot.
			onlyControls: `"ssh"`,
			after:        `"sudo sed -i 's/^MaxAuthTries .*/MaxAuthTries 6/' /etc/ssh/sshd_config.d/00-golden-hardening.conf"`,
			probes: `
    sysctl {
      name  = "net.ipv4.conf.all.log_martians"
      value = "1"
    }
    service {
      name = "nonexistent"
    }
    service {
      name    = "ssh"
      running = true
    }
    hardening_audit = true
`}))
		res := p.Run(t, "build", "-color=false", file)
		if res.ExitCode == 0 {
			t.Fatalf("packer build passed a validation that must fail:\n%s", res.Output)
		}
		if tags := image(t, "golden-runtime-only"); tags[goldentag.Validation] != goldentag.ValidationFailed {
			t.Errorf("image tags = %v, want %s = failed", tags, goldentag.Validation)
		}
		out := flat(res.Output)
		drifted := "that passed at build time fail after the boot: ssh.max-auth-tries (fixed at build time, failed after the boot)"
		for _, want := range []string{`3 of 4 probes failed`, `sysctl "net.ipv4.conf.all.log_martians" (is 0, want 1)`, `service "nonexistent" (no unit nonexistent is installed)`,
			drifted} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, res.Output)
			}
		}
		v, err := report.ParseValidation([]byte(p.ReadFile(t, "reports/validate.json")))
		if err != nil {
			t.Fatal(err)
		}
		var failed []string
		for _, pr := range v.Targets[0].Failed() {
			failed = append(failed, pr.ID())
		}
		if strings.Join(failed, ", ") != `service "nonexistent", sysctl "net.ipv4.conf.all.log_martians", hardening_audit "/var/log/golden/harden-report.json"` {
			t.Errorf("the JSON report names %v as failed", failed)
		}
		if v.Targets[0].ConsoleOutput == "" {
			t.Error("the report of the failed target has no console output")
		}
		junit := p.ReadFile(t, "reports/validate.xml")
		if strings.Count(junit, "<failure ") != 3 || !strings.Contains(junit, "nonexistent") || !strings.Contains(junit, "ssh.max-auth-tries") {
			t.Errorf("JUnit report:\n%s", junit)
		}
		if left := leftovers(ms.sim, lab.SimRegion); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// TestValidateAmazonEBSBootsTheBuiltImage runs TestValidateBootsTheBuiltImage's pipeline with
// packer-plugin-amazon's amazon-ebs builder instead of golden-ebs: its artifact reaches
// golden-validate from another plugin process, over Packer's plugin RPC. amazon-ebs builds on a
// lab machine over SSH (clearing its temporary authorized key, as no_build_leftovers requires),
// golden-harden hardens it, and golden-validate boots the captured disk on a new lab machine,
// probes it and tags the amazon-ebs image passed. Three lab machines one after the other (about
// 4 minutes on two loaded cores): run by `make test-matrix` (GOLDEN_VALIDATE_MACHINES=1);
// `make test` has TestValidateAmazonEBSArtifact, the same crossing on the Debian 12 target.
func TestValidateAmazonEBSBootsTheBuiltImage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	if os.Getenv("GOLDEN_VALIDATE_MACHINES") != "1" {
		t.Skip("amazon-ebs and golden-validate on lab machines: run by make test-matrix (GOLDEN_VALIDATE_MACHINES=1)")
	}
	ms := newMachineSim(t)
	p := lab.Packer(t)
	p.UseSim(ms.sim)
	p.UseAmazonPlugin(t)
	const name = "amazon-ebs-validated"
	source := ms.vendorAMI(context.Background(), t, "ubuntu-22.04")
	file := p.WriteFile(t, "amazon.pkr.hcl", machinePipeline(machineBuild{name: name,
		commands:     `"echo built-by-amazon-ebs | sudo tee /etc/golden-build >/dev/null"`,
		onlyControls: hardenedControls,
		plugins:      amazonRequiredPlugin,
		selector:     "source.amazon-ebs.ubuntu",
		source: `source "amazon-ebs" "ubuntu" {
  region                     = "` + lab.SimRegion + `"
  custom_endpoint_ec2        = "` + ms.sim.URL() + `"
  skip_credential_validation = true
  source_ami                 = "` + source + `"
  instance_type              = "t3.micro"
  ami_name                   = "` + name + `"
  ssh_username               = "ubuntu"
  ssh_timeout                = "5m"
  ssh_clear_authorized_keys  = true
  tags                       = { Team = "platform" }
  aws_polling {
    delay_seconds = 1
  }
}`,
		probes: `
    file {
      path     = "/etc/golden-build"
      contents = ["built-by-amazon-ebs"]
    }
    service {
      name    = "ssh"
      running = true
    }
    imdsv2_enforced    = true
    no_build_leftovers = true
    hardening_audit    = true
    required_tags      = ["Team=platform"]
`}))
	res := p.Run(t, "build", "-color=false", file)
	if res.ExitCode != 0 {
		t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
	}
	var img ec2sim.Image
	for _, im := range ms.sim.Images(lab.SimRegion) {
		if im.Name == name {
			img = im
		}
	}
	if img.ID == "" || img.Tags[goldentag.Validation] != goldentag.ValidationPassed {
		t.Errorf("the amazon-ebs image %q has tags %v, want %s = passed\n%s", img.ID, img.Tags, goldentag.Validation, res.Output)
	}
	for _, want := range []string{"PASS no_build_leftovers", "PASS imdsv2_enforced", `PASS hardening_audit "/var/log/golden/harden-report.json": all `} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
	v, err := report.ParseValidation([]byte(p.ReadFile(t, "reports/validate.json")))
	if err != nil {
		t.Fatal(err)
	}
	if !v.Passed || len(v.Targets) != 1 || v.Targets[0].ImageID != img.ID || len(v.Targets[0].Probes) != 6 {
		t.Fatalf("JSON report: %+v", v)
	}
	// The instance golden-validate probed was a lab machine booted from the amazon-ebs image.
	var booted []string
	for _, in := range ms.sim.Instances(lab.SimRegion) {
		if in.ImageID == img.ID {
			booted = append(booted, in.ID)
		}
	}
	if len(booted) != 1 || booted[0] != v.Targets[0].InstanceID {
		t.Errorf("instances of %s: %v, want the report's %s", img.ID, booted, v.Targets[0].InstanceID)
	}
	if left := leftovers(ms.sim, lab.SimRegion); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
