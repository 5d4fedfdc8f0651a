package e2e

import (
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/acceptance"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
	"github.com/golden-ami/packer-plugin-golden/test/iam"
)

// golden-ebs end to end on the lab's machines: the real packer binary builds from a vendor's
// image (source_os), the simulator boots the instance as a machine of that image, the
// provisioners run over SSH, CreateImage captures the machine's disk, and the test boots the new
// AMI as any EC2 user would (its own key pair, through the SDK) to look at what the image holds.

// ebsLabOSes are the operating systems TestEBSLabBuild builds on, in parallel, golden-harden's
// default profile running on each it supports: Ubuntu 22.04, Debian 12 and Ubuntu 24.04; others
// when GOLDEN_LAB_OSES names them (comma separated, or "all").
var ebsLabOSes = []string{"ubuntu-22.04", "debian-12", "ubuntu-24.04"}

// ebsLabTemplate builds on system with a shell provisioner that leaves a file, and golden-harden's
// default profile when harden is set; a manifest post-processor records the artifact and the generated
// data it was given.
func ebsLabTemplate(system string, harden bool) string {
	hardenBlock := ""
	if harden {
		hardenBlock = `
  provisioner "golden-harden" {
    report = "harden.json"
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

source "golden-ebs" "lab" {
  source_os     = "` + system + `"
  instance_type = "t3.micro"
  ami_name      = "golden-` + system + `-e2e"
  ssh_timeout   = "10m"
  tags          = { Team = "platform", OS = "` + system + `" }
  snapshot_tags = { Backup = "weekly" }
  run_tags      = { Purpose = "e2e-lab" }
  aws_polling {
    delay_seconds = 2
  }
}

build {
  sources = ["source.golden-ebs.lab"]

  provisioner "shell" {
    inline = [
      "echo \"temporary-key: $(cat ~/.ssh/authorized_keys)\"",
      "echo 'built-by-golden-ebs source=${build.SourceAMI} region=${build.BuildRegion}' | sudo tee /etc/golden-e2e",
    ]
  }
` + hardenBlock + `
  post-processor "manifest" {
    output = "manifest.json"
    custom_data = {
      source_ami      = "${build.SourceAMI}"
      source_ami_name = "${build.SourceAMIName}"
      source_owner    = "${build.SourceAMIOwner}"
      build_region    = "${build.BuildRegion}"
    }
  }
}
`
}

// hardenSupports reports whether golden-harden hardens system (e.g. "ubuntu-22.04"): the build runs it
// wherever it does.
func hardenSupports(system string) bool {
	id, version, _ := strings.Cut(system, "-")
	return hardening.CheckSupported(hardening.OSInfo{ID: id, VersionID: version, Family: "debian"}) == nil
}

// TestEBSLabBuild builds an AMI with golden-ebs from each of ebsLabOSes, in parallel.
func TestEBSLabBuild(t *testing.T) {
	t.Parallel()
	host := lab.Machines(t)
	oses := lab.MachineOSes(host, ebsLabOSes...)
	lab.PrepareImages(t, host, oses...)
	for _, system := range oses {
		t.Run(system, func(t *testing.T) {
			t.Parallel()
			ebsLabBuild(t, host, system)
		})
	}
}

func ebsLabBuild(t *testing.T, host *labmachine.Host, system string) {
	user, ok := lab.VendorUsers[system]
	if !ok {
		t.Fatalf("no default user known for %s", system)
	}
	harden := hardenSupports(system)
	if !harden {
		t.Logf("golden-harden does not support %s yet: the build runs the shell provisioner only", system)
	}
	sim := ec2sim.StartTest(t, ec2sim.Options{Machines: host})
	p := lab.Packer(t)
	p.UseSim(sim)
	file := p.WriteFile(t, "build.pkr.hcl", ebsLabTemplate(system, harden))
	res := p.Run(t, "build", "-color=false", file)
	if res.ExitCode != 0 {
		t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
	}
	calls := sim.CallCounts()
	t.Logf("AWS calls of the build: %v", calls)
	checkDocumentedActions(t, calls)

	// The image: named, tagged, encrypted, IMDSv2 only, nothing temporary about it.
	images := builtImages(sim, ebsRegion)
	if len(images) != 1 {
		t.Fatalf("want one built image, got %d:\n%s", len(images), res.Output)
	}
	img := images[0]
	source := sourceOSImage(t, sim, system)
	if img.Name != "golden-"+system+"-e2e" || img.State != "available" {
		t.Errorf("image %s: name %q state %s", img.ID, img.Name, img.State)
	}
	for k, want := range map[string]string{"Team": "platform", "OS": system, goldentag.SourceAMI: source} {
		if img.Tags[k] != want {
			t.Errorf("image tag %s = %q, want %q (tags %v)", k, img.Tags[k], want, img.Tags)
		}
	}
	if img.Tags[goldentag.BuildID] == "" || img.Tags[goldentag.Temporary] != "" || img.Tags[goldentag.ExpiresAt] != "" {
		t.Errorf("image tags %v: want %s, and no temporary marks", img.Tags, goldentag.BuildID)
	}
	if img.ImdsSupport != "v2.0" {
		t.Errorf("image imds support = %q, want v2.0", img.ImdsSupport)
	}
	_, ebsKey := sim.EBSManagedKey(ebsRegion)
	var snapshots []string
	for _, bd := range img.BlockDevices {
		sn, ok := sim.Snapshot(ebsRegion, bd.SnapshotID)
		if !ok {
			t.Errorf("image %s maps %s to snapshot %s, which does not exist", img.ID, bd.DeviceName, bd.SnapshotID)
			continue
		}
		snapshots = append(snapshots, sn.ID)
		if !bd.Encrypted || !sn.Encrypted || bd.VolumeType != "gp3" || sn.KmsKeyID != ebsKey {
			t.Errorf("snapshot %s: encrypted %t/%t, key %q, type %s; want encrypted with %s, gp3", sn.ID, bd.Encrypted, sn.Encrypted, sn.KmsKeyID, bd.VolumeType, ebsKey)
		}
		if sn.Tags["Backup"] != "weekly" || sn.Tags[goldentag.BuildID] != img.Tags[goldentag.BuildID] || sn.Tags[goldentag.Temporary] != "" {
			t.Errorf("snapshot %s tags = %v", sn.ID, sn.Tags)
		}
	}
	if len(snapshots) == 0 {
		t.Errorf("image %s has no snapshot", img.ID)
	}
	if left := leftovers(sim, ebsRegion); len(left) > 0 {
		t.Errorf("left behind: %v\n%s", left, res.Output)
	}

	// The build's instance: IMDSv2, the run's tags, the vendor's image; its temporary group let
	// in this machine's address on the instance's link only.
	for _, in := range sim.Instances(ebsRegion) {
		if in.ImageID != source || in.MetadataOptions.HTTPTokens != "required" || in.Tags["Purpose"] != "e2e-lab" {
			t.Errorf("build instance %s: image %s (want %s), tokens %s, tags %v", in.ID, in.ImageID, source, in.MetadataOptions.HTTPTokens, in.Tags)
		}
	}
	callerRule := regexp.MustCompile(`lets port 22 in from ([0-9.]+)/32 `).FindStringSubmatch(res.Output)
	if _, block, _ := net.ParseCIDR(labmachine.CallerCIDR()); callerRule == nil || !block.Contains(net.ParseIP(callerRule[1])) {
		t.Errorf("the temporary group was not opened to one address of the lab's host (%s):\n%s", labmachine.CallerCIDR(), res.Output)
	}
	for _, want := range []string{"Removing the temporary key from authorized_keys", "removed the temporary key from", "to be available: available after"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}

	// The post-processor got the artifact and the build's generated data.
	var m acceptance.PackerManifest
	if err := acceptance.ReadJSON(filepath.Join(p.Dir, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Builds) != 1 {
		t.Fatalf("manifest lists %d builds, want 1", len(m.Builds))
	}
	b := m.Builds[0]
	sourceImage, _ := sim.Image(ebsRegion, source)
	wantData := map[string]string{"source_ami": source, "source_ami_name": sourceImage.Name, "source_owner": sourceImage.OwnerID, "build_region": ebsRegion}
	if b.BuilderType != "golden-ebs" || b.ArtifactID != ebsRegion+":"+img.ID || !maps.Equal(b.CustomData, wantData) {
		t.Errorf("manifest build = %+v, want golden-ebs, %s:%s, custom data %v", b, ebsRegion, img.ID, wantData)
	}

	// Boot the new image with a key of our own and look inside.
	temporaryKeys := keyBlobs(lineAfter(res.Output, "temporary-key: "))
	if len(temporaryKeys) == 0 {
		t.Fatalf("the shell provisioner printed no temporary key:\n%s", res.Output)
	}
	in := lab.LaunchInstance(t, sim, img.ID, user)
	for _, launched := range sim.Instances(ebsRegion) {
		if launched.ID == in.ID && launched.MetadataOptions.HTTPTokens != "required" {
			t.Errorf("an instance of the image launched without metadata options got tokens %q; imds_support v2.0 makes them required", launched.MetadataOptions.HTTPTokens)
		}
	}
	if got, want := strings.TrimSpace(in.MustRun(t, "cat /etc/golden-e2e")), "built-by-golden-ebs source="+source+" region="+ebsRegion; got != want {
		t.Errorf("/etc/golden-e2e on an instance of the image = %q, want %q", got, want)
	}
	present := keyBlobs(in.MustRun(t, "sudo sh -c 'cat /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys 2>/dev/null'"))
	ownKey := keyBlobs(in.AuthorizedKey)[0]
	for _, k := range present {
		if k != ownKey {
			t.Errorf("an instance of the image trusts a key other than its key pair's: %s (the build's: %v)", k, temporaryKeys)
		}
	}
	for _, k := range temporaryKeys {
		if slices.Contains(present, k) {
			t.Errorf("the build's temporary key %s is still authorized in the image", k)
		}
	}
	if harden {
		r, err := report.ParseJSON([]byte(p.ReadFile(t, "harden.json")))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Passed || len(r.Items) == 0 {
			t.Errorf("golden-harden's report: passed %t, %d controls:\n%s", r.Passed, len(r.Items), notOK(r, report.StatusPass, report.StatusFixed))
		}
		sshd := in.MustRun(t, "sudo sshd -T")
		for _, want := range []string{"permitrootlogin no", "x11forwarding no"} {
			if !strings.Contains(sshd, want+"\n") {
				t.Errorf("sshd of an instance of the hardened image lacks %q:\n%s", want, sshd)
			}
		}
	}
}

// sourceOSImage is the vendor image source_os reads for system, the value of the vendor's parameter.
func sourceOSImage(t *testing.T, sim *ec2sim.Server, system string) string {
	t.Helper()
	param := lab.VendorImageParams[system]
	v, ok := sim.Parameter(ebsRegion, param)
	if !ok {
		t.Fatalf("the simulator has no parameter %q for %s", param, system)
	}
	return v
}

// lineAfter is the rest of the first output line that holds prefix.
func lineAfter(output, prefix string) string {
	for _, line := range strings.Split(output, "\n") {
		if _, rest, ok := strings.Cut(line, prefix); ok {
			return rest
		}
	}
	return ""
}

// keyBlobs are the base64 key blobs of authorized_keys text, whatever options precede them.
func keyBlobs(text string) []string {
	var blobs []string
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "AAAA") {
			blobs = append(blobs, f)
		}
	}
	return blobs
}

// checkDocumentedActions fails the test for every action the simulator answered that the IAM
// policy of docs/builders/ebs.mdx does not allow.
func checkDocumentedActions(t *testing.T, calls map[string]int) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(lab.RepoRoot(t), "docs", "builders", "ebs.mdx"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := iam.PolicyUnder(doc, "## Required IAM permissions")
	if err != nil {
		t.Fatal(err)
	}
	documented := policy.Actions()
	for action := range calls {
		if !slices.ContainsFunc(documented, func(a string) bool { _, name, _ := strings.Cut(a, ":"); return name == action }) {
			t.Errorf("the build called %s, which the IAM policy of docs/builders/ebs.mdx does not allow", action)
		}
	}
}
