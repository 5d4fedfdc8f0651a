package e2e

import (
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// machinePipeline builds an Ubuntu 22.04 image with golden-ebs on a lab machine, running the
// given shell commands on it, then golden-harden on the controls onlyControls lists, then the
// shell commands of after (none when empty), and validates the image with golden-validate, whose
// instance is a new lab machine booted from the disk the build captured: cloud-init hands it
// golden-validate's own temporary key. A manifest post-processor keeps the image when the
// validation fails.
func machinePipeline(name, commands, onlyControls, after, probes string) string {
	if after != "" {
		after = `
  provisioner "shell" {
    inline = [` + after + `]
  }
`
	}
	return `packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

source "golden-ebs" "ubuntu" {
  source_os     = "ubuntu-22.04"
  instance_type = "t3.micro"
  ami_name      = "` + name + `"
  tags          = { Team = "platform" }
  ssh_timeout   = "5m"
  aws_polling {
    delay_seconds = 1
  }
}

build {
  sources = ["source.golden-ebs.ubuntu"]

  provisioner "shell" {
    inline = [` + commands + `]
  }

  provisioner "golden-harden" {
    only_controls = [` + onlyControls + `]
    report        = "reports/harden.json"
  }
` + after + `
  post-processor "golden-validate" {
    ssh_username       = "ubuntu"
    ssh_timeout        = "5m"
    probe_timeout      = "20s"
    probe_interval     = "2s"
    junit_report       = "reports/validate.xml"
    json_report        = "reports/validate.json"
    aws_polling {
      delay_seconds = 1
    }
` + probes + `
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
`
}

// TestValidateBootsTheBuiltImage runs the pipeline on lab machines with the real packer binary:
// what the build persisted, golden-harden's controls among it, passes after the boot (the
// hardening audit too) and tags the image passed; a setting the build only applied at run time
// (`sysctl -w`), a hardened sshd setting a later provisioner undid on disk, and a service that
// does not exist fail the validation on the booted image, fail the build, tag the image failed and
// are named in the reports.
// hardenedControls are golden-harden's controls in the image that passes: sshd's, and two network
// sysctls (a lab machine's network namespace is its own, as an instance's kernel is).
const hardenedControls = `"ssh", "sysctl.log-martians", "sysctl.send-redirects"`

func TestValidateBootsTheBuiltImage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	ms := newMachineSim(t)
	p := lab.Packer(t)
	p.UseSim(ms.sim)
	image := func(t *testing.T, name string) map[string]string {
		t.Helper()
		for _, img := range ms.sim.Images(lab.SimRegion) {
			if img.Name == name {
				return img.Tags
			}
		}
		t.Fatalf("no image %s", name)
		return nil
	}

	t.Run("persisted", func(t *testing.T) {
		file := p.WriteFile(t, "persisted.pkr.hcl", machinePipeline("golden-persisted",
			`"echo built-by-golden-ebs | sudo tee /etc/golden-build >/dev/null",
      "printf '[Unit]\\nDescription=golden marker\\n[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n' | sudo tee /etc/systemd/system/golden-marker.service >/dev/null",
      "sudo systemctl enable golden-marker.service"`, hardenedControls, "", `
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
`))
		res := p.Run(t, "build", "-color=false", file)
		if res.ExitCode != 0 {
			t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
		}
		if tags := image(t, "golden-persisted"); tags[goldentag.Validation] != goldentag.ValidationPassed {
			t.Errorf("image tags = %v, want %s = passed", tags, goldentag.Validation)
		}
		for _, want := range []string{"cloud-init to finish (cloud-init status --wait): done after", "PASS no_build_leftovers", "PASS imdsv2_enforced",
			`PASS hardening_audit "/var/log/golden/harden-report.json": all `} {
			if !strings.Contains(res.Output, want) {
				t.Errorf("output lacks %q:\n%s", want, res.Output)
			}
		}
		if left := leftovers(ms.sim, lab.SimRegion); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})

	t.Run("runtime_only", func(t *testing.T) {
		file := p.WriteFile(t, "runtime.pkr.hcl", machinePipeline("golden-runtime-only",
			`"sudo sysctl -w net.ipv4.conf.all.log_martians=1", "sysctl -n net.ipv4.conf.all.log_martians"`,
			// sshd reads its configuration when it starts: the running one keeps MaxAuthTries 4
			// until the boot.
			`"ssh"`, `"sudo sed -i 's/^MaxAuthTries .*/MaxAuthTries 6/' /etc/ssh/sshd_config.d/00-golden-hardening.conf"`, `
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
`))
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
