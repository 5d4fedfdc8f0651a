package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

const ebsRegion = lab.SimRegion

// quickDelays keep every simulated transition visible to the builder's waiters (one poll a
// second) without making a build last more than a few seconds.
var quickDelays = ec2sim.Delays{
	InstancePending: 300 * time.Millisecond, InstanceStopping: 300 * time.Millisecond,
	InstanceShuttingDown: 300 * time.Millisecond, ImagePending: 1500 * time.Millisecond,
	SnapshotPending: 500 * time.Millisecond,
}

// ebsTemplate is a golden-ebs build with the given source arguments, a shell-local provisioner
// that prints the generated data provisioners see, and a shell-local post-processor that prints
// what it received.
func ebsTemplate(source string) string {
	return `packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

source "golden-ebs" "test" {
  aws_polling {
    delay_seconds = 1
  }
` + source + `
}

build {
  sources = ["source.golden-ebs.test"]

  provisioner "shell-local" {
    inline = ["echo provisioner-sees source=${build.SourceAMI} name=${build.SourceAMIName} region=${build.BuildRegion} owner=${build.SourceAMIOwner}"]
  }

  post-processor "shell-local" {
    inline = ["echo post-processor-sees source=${build.SourceAMI} region=${build.BuildRegion} artifact=$PACKER_BUILD_NAME"]
  }
}
`
}

// noneSource builds from Debian 12 without connecting to the instance: every AWS call of a
// build, without a machine to log in to.
const noneSource = `
  source_os     = "debian-12"
  instance_type = "t3.micro"
  ami_name      = "golden-debian-12-e2e"
  communicator  = "none"
  tags          = { Team = "platform" }
  snapshot_tags = { Backup = "weekly" }
  run_tags      = { Purpose = "e2e" }
`

// leftovers lists what a build must never leave in the simulator: a live instance, a temporary
// security group or key pair, an image or snapshot still marked temporary, a snapshot of no image.
func leftovers(sim *ec2sim.Server, region string) []string {
	var left []string
	for _, in := range sim.Instances(region) {
		if in.State != "terminated" {
			left = append(left, fmt.Sprintf("instance %s (%s)", in.ID, in.State))
		}
	}
	for _, g := range sim.SecurityGroups(region) {
		if g.Tags[goldentag.Temporary] == "true" {
			left = append(left, "security group "+g.ID)
		}
	}
	for _, k := range sim.KeyPairs(region) {
		if k.Tags[goldentag.Temporary] == "true" {
			left = append(left, "key pair "+k.Name)
		}
	}
	used := map[string]bool{}
	for _, img := range sim.Images(region) {
		if img.Tags[goldentag.Temporary] == "true" {
			left = append(left, "unfinished image "+img.ID)
		}
		for _, bd := range img.BlockDevices {
			used[bd.SnapshotID] = true
		}
	}
	for _, sn := range sim.Snapshots(region) {
		if !used[sn.ID] || sn.Tags[goldentag.Temporary] == "true" {
			left = append(left, "orphan snapshot "+sn.ID)
		}
	}
	return left
}

// builtImages are the images the simulator holds that a build made (not the seeded public ones).
func builtImages(sim *ec2sim.Server, region string) []ec2sim.Image {
	var out []ec2sim.Image
	for _, img := range sim.Images(region) {
		if img.SourceInstanceID != "" {
			out = append(out, img)
		}
	}
	return out
}

func TestEBSBuildWithoutCommunicator(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays})
	p := lab.Packer(t)
	p.UseSim(sim)
	file := p.WriteFile(t, "build.pkr.hcl", ebsTemplate(noneSource))
	res := p.Run(t, "build", "-color=false", file)
	if res.ExitCode != 0 {
		t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
	}
	images := builtImages(sim, ebsRegion)
	if len(images) != 1 {
		t.Fatalf("want one built image, got %d:\n%s", len(images), res.Output)
	}
	img := images[0]
	source, _ := sim.Parameter(ebsRegion, "/aws/service/debian/release/12/latest/amd64")
	for k, want := range map[string]string{"Team": "platform", goldentag.SourceAMI: source} {
		if img.Tags[k] != want {
			t.Errorf("image tag %s = %q, want %q (tags %v)", k, img.Tags[k], want, img.Tags)
		}
	}
	if img.Tags[goldentag.BuildID] == "" {
		t.Errorf("image has no %s tag: %v", goldentag.BuildID, img.Tags)
	}
	if img.ImdsSupport != "v2.0" {
		t.Errorf("image imds support = %q, want v2.0", img.ImdsSupport)
	}
	for _, bd := range img.BlockDevices {
		sn, _ := sim.Snapshot(ebsRegion, bd.SnapshotID)
		if !sn.Encrypted || bd.VolumeType != "gp3" {
			t.Errorf("snapshot %s: encrypted=%t type=%s, want encrypted gp3", sn.ID, sn.Encrypted, bd.VolumeType)
		}
		if sn.Tags["Backup"] != "weekly" || sn.Tags[goldentag.BuildID] != img.Tags[goldentag.BuildID] {
			t.Errorf("snapshot %s tags = %v", sn.ID, sn.Tags)
		}
	}
	if left := leftovers(sim, ebsRegion); len(left) > 0 {
		t.Errorf("left behind: %v\n%s", left, res.Output)
	}
	for _, want := range []string{
		"provisioner-sees source=" + source + " name=debian-12-amd64-20240211-1654 region=us-east-1 owner=136693071363",
		"post-processor-sees source=" + source + " region=us-east-1",
		"us-east-1: " + img.ID,
		"to be available: available after",
	} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
	// The instance ran with IMDSv2 required and the run's tags on it and its volumes.
	for _, in := range sim.Instances(ebsRegion) {
		if in.MetadataOptions.HTTPTokens != "required" || in.Tags["Purpose"] != "e2e" || in.Tags[goldentag.Temporary] != "true" {
			t.Errorf("instance %s: tokens=%s tags=%v", in.ID, in.MetadataOptions.HTTPTokens, in.Tags)
		}
	}
}

// TestEBSValidateRejectsBadInput runs `packer validate` on templates a user could write by
// mistake: each fails with exit code 1 and a message naming the option, and nothing is called.
func TestEBSValidateRejectsBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	p := lab.Packer(t)
	p.UseSim(sim)
	base := `
  instance_type = "t3.micro"
  ami_name      = "golden-e2e"
`
	cases := []struct {
		name, source, want string
	}{
		{"filter without owners", base + `
  source_ami_filter {
    filters = { name = "ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*" }
    most_recent = true
  }`, "source_ami_filter.owners: required: name the accounts whose images may be used"},
		{"bad AMI name", `
  source_os     = "debian-12"
  instance_type = "t3.micro"
  ami_name      = "golden:debian-12"`, `ami_name: "golden:debian-12" must be 3 to 128 characters of letters, digits, spaces and ( ) [ ] . / - ' @ _`},
		{"unknown source_os", base + `
  source_os = "centos-7"`, `source_os: "centos-7" is not one of al2023, debian-12, debian-13, ubuntu-22.04, ubuntu-24.04, ubuntu-26.04`},
		{"0.0.0.0/0 left implicit", base + `
  source_os = "debian-12"
  temporary_security_group_source_cidrs = ["203.0.113.7/0"]`, `temporary_security_group_source_cidrs: "203.0.113.7/0" opens the SSH port to every address; write 0.0.0.0/0 if that is meant`},
		{"filter with an empty owners list", base + `
  source_ami_filter {
    filters = { name = "debian-12-amd64-*" }
    owners  = []
  }`, "source_ami_filter.owners: required: name the accounts whose images may be used"},
		{"filter owned by a vendor's name", base + `
  source_ami_filter {
    filters = { name = "ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*" }
    owners  = ["canonical"]
  }`, `source_ami_filter.owners: "canonical" is neither an account ID (12 digits) nor one of self, amazon, aws-marketplace`},
		{"AMI name too long", `
  source_os     = "debian-12"
  instance_type = "t3.micro"
  ami_name      = "` + strings.Repeat("a", 129) + `"`, `ami_name: "` + strings.Repeat("a", 129) + `" must be 3 to 128 characters`},
		{"AMI name too short", `
  source_os     = "debian-12"
  instance_type = "t3.micro"
  ami_name      = "ab"`, `ami_name: "ab" must be 3 to 128 characters`},
		{"a retired source_os", base + `
  source_os = "ubuntu-20.04"`, `source_os: "ubuntu-20.04" is not one of al2023, debian-12, debian-13, ubuntu-22.04, ubuntu-24.04, ubuntu-26.04`},
		{"no source", base, "source_ami, source_ami_filter, source_ami_ssm_parameter or source_os: one is required"},
		{"::/0 left implicit", base + `
  source_os = "ubuntu-22.04"
  temporary_security_group_source_cidrs = ["2001:db8::7/0"]`, `temporary_security_group_source_cidrs: "2001:db8::7/0" opens the SSH port to every address; write ::/0 if that is meant`},
		{"an RSA temporary key", base + `
  source_os = "ubuntu-22.04"
  temporary_key_pair_type = "rsa"`, `temporary_key_pair_type: "rsa" is not supported: the temporary key is always ed25519`},
		{"a duration packer cannot read", base + `
  source_os = "ubuntu-22.04"
  temporary_resources_ttl = "6 hours"`, `error decoding 'temporary_resources_ttl': time: unknown unit " hours" in duration "6 hours"`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := p.WriteFile(t, fmt.Sprintf("bad-%d.pkr.hcl", i), ebsTemplate(tc.source))
			res := p.Run(t, "validate", file)
			if res.ExitCode != 1 {
				t.Fatalf("packer validate exited %d, want 1:\n%s", res.ExitCode, res.Output)
			}
			if !strings.Contains(flat(res.Output), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, res.Output)
			}
		})
	}
	// Every mistake of a configuration is named at once, not one per run.
	file := p.WriteFile(t, "bad-all.pkr.hcl", ebsTemplate(`
  instance_type = "t3.micro"
  ami_name      = "golden:e2e"
  source_ami_filter {
    filters = { name = "debian-12-amd64-*" }
  }
  temporary_security_group_source_cidrs = ["198.51.100.1/0"]`))
	res := p.Run(t, "validate", file)
	if res.ExitCode != 1 {
		t.Errorf("packer validate of three mistakes exited %d, want 1:\n%s", res.ExitCode, res.Output)
	}
	for _, want := range []string{"source_ami_filter.owners: required", `ami_name: "golden:e2e" must be`,
		`temporary_security_group_source_cidrs: "198.51.100.1/0" opens the SSH port to every address; write 0.0.0.0/0 if that is meant`} {
		if !strings.Contains(flat(res.Output), want) {
			t.Errorf("the output of three mistakes lacks %q:\n%s", want, res.Output)
		}
	}
	if calls := sim.CallCounts(); len(calls) > 0 {
		t.Errorf("validate called AWS: %v", calls)
	}
	// Packer's template functions are evaluated before the name is checked.
	file = p.WriteFile(t, "timestamp.pkr.hcl", ebsTemplate(`
  source_os     = "debian-12"
  instance_type = "t3.micro"
  ami_name      = "golden-debian-12-{{timestamp}}"`))
	if res := p.Run(t, "validate", file); res.ExitCode != 0 {
		t.Errorf("packer validate of an ami_name with {{timestamp}} exited %d:\n%s", res.ExitCode, res.Output)
	}
	// Written out, the whole internet is accepted.
	file = p.WriteFile(t, "open.pkr.hcl", ebsTemplate(base+`
  source_os = "debian-12"
  temporary_security_group_source_cidrs = ["0.0.0.0/0"]`))
	if res := p.Run(t, "validate", file); res.ExitCode != 0 {
		t.Errorf("packer validate of an explicit 0.0.0.0/0 exited %d:\n%s", res.ExitCode, res.Output)
	}
}
