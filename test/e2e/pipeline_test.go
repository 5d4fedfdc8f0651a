package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// A pipeline as users write it: a builder makes the image in the build region, golden-lifecycle,
// configured for another region, tags, copies, shares, publishes and prunes a fleet of older
// images of the same pipeline, among them the very image the build started from.
const (
	pipelineBuildRegion = "us-east-1"
	// pipelineRegion is the post-processor's own region, not the build region: the image in the
	// build region must still be taken for the one the build produced.
	pipelineRegion      = "us-west-2"
	pipelineCopyRegion  = "eu-west-1"
	pipelineTag         = "golden-app"
	pipelineShare       = "444455556666"
	pipelineParameter   = "/golden/app/latest"
	pipelineKeepLatest  = 2
	pipelineFleetPerReg = 3
	pipelineKeyAlias    = "alias/golden-images"
)

// pipelineRegions are the regions the pipeline leaves an image in.
var pipelineRegions = []string{pipelineBuildRegion, pipelineRegion, pipelineCopyRegion}

// pipelineFleet is what the simulator holds before the build.
type pipelineFleet struct {
	// base is the image the build starts from: an older image of the same pipeline, owned by the
	// account, selected by the prune and older than every other one. The prune must keep it.
	base string
	// old lists each region's older images of the pipeline, newest first.
	old map[string][]string
	// inUse is an old image a launch template launches from.
	inUse string
}

func seedPipelineFleet(sim *ec2sim.Server) pipelineFleet {
	now := time.Now().UTC()
	f := pipelineFleet{old: map[string][]string{}}
	for _, region := range pipelineRegions {
		sim.AddKMSKey(region, pipelineKeyAlias)
	}
	f.base = sim.AddImage(pipelineBuildRegion, ec2sim.ImageSeed{
		Name: pipelineTag + "-base", Architecture: "x86_64", CreationDate: now.AddDate(0, 0, -400),
		Tags: map[string]string{"Pipeline": pipelineTag},
	})
	for _, region := range pipelineRegions {
		for i := range pipelineFleetPerReg {
			created := now.AddDate(0, 0, -30*(i+1))
			f.old[region] = append(f.old[region], sim.AddImage(region, ec2sim.ImageSeed{
				Name: fmt.Sprintf("%s-%s", pipelineTag, created.Format("20060102")), Architecture: "x86_64",
				CreationDate: created, Tags: map[string]string{"Pipeline": pipelineTag},
			}))
		}
	}
	// The oldest image of the copy region is still launched from.
	f.inUse = f.old[pipelineCopyRegion][pipelineFleetPerReg-1]
	sim.AddLaunchTemplate(pipelineCopyRegion, ec2sim.LaunchTemplateSeed{Name: "app-servers", Versions: []string{f.inUse}})
	return f
}

// pipelineTemplate is the build: the given source, then golden-lifecycle.
// copyTo lists the regions golden-lifecycle copies to, each encrypted with the region's customer
// managed key: an encrypted image can be shared only under a key the other account may use.
func pipelineTemplate(sim *ec2sim.Server, requiredPlugins, source, sourceName string, copyTo ...string) string {
	var regions, keys []string
	for _, r := range copyTo {
		regions = append(regions, `"`+r+`"`)
		keys = append(keys, `"`+r+`" = "`+pipelineKeyAlias+`"`)
	}
	return `packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
` + requiredPlugins + `
  }
}

` + source + `

build {
  sources = ["` + sourceName + `"]

  post-processor "golden-lifecycle" {
    region              = "` + pipelineRegion + `"
    custom_endpoint_ec2 = "` + sim.URL() + `"
    keep_input_artifact = true
    tags                = { Pipeline = "` + pipelineTag + `", Owner = "platform" }
    snapshot_tags       = { Backup = "none" }
    git_commit          = "0123456789abcdef0123456789abcdef01234567"
    copy_to             = [` + strings.Join(regions, ", ") + `]
    kms_key_ids         = { ` + strings.Join(keys, ", ") + ` }
    poll_interval       = "1s"
    share_with          = ["` + pipelineShare + `"]
    ssm_parameter       = "` + pipelineParameter + `"
    manifest            = "build/manifest.json"
    prune {
      match_tags  = { Pipeline = "` + pipelineTag + `" }
      keep_latest = ` + fmt.Sprint(pipelineKeepLatest) + `
      report      = "build/prune.json"
    }
  }
}
`
}

// pipelineImages finds the image the build produced in each region: the one named by the
// manifest, checked against the simulator.
type pipelineManifest struct {
	Source struct {
		Region  string `json:"region"`
		ImageID string `json:"image_id"`
	} `json:"source"`
	AMIs   map[string]string `json:"amis"`
	Images []struct {
		Region       string            `json:"region"`
		ImageID      string            `json:"image_id"`
		CopiedFrom   string            `json:"copied_from"`
		Snapshots    []string          `json:"snapshots"`
		Tags         map[string]string `json:"tags"`
		SSMParameter string            `json:"ssm_parameter"`
	} `json:"images"`
	Prune struct {
		Plans []struct {
			Region string `json:"region"`
			Images []struct {
				ImageID string `json:"image_id"`
				Action  string `json:"action"`
				Reasons []struct {
					Code   string `json:"code"`
					Detail string `json:"detail"`
				} `json:"reasons"`
			} `json:"images"`
		} `json:"plans"`
	} `json:"prune"`
}

// checkPipeline asserts what a finished pipeline must leave in the simulator and the manifest.
// builderCopies lists the regions the builder itself copied the image to.
func checkPipeline(t *testing.T, sim *ec2sim.Server, p *lab.PackerEnv, res lab.Result, fleet pipelineFleet, builderCopies []string) {
	t.Helper()
	var m pipelineManifest
	if err := json.Unmarshal([]byte(p.ReadFile(t, "build/manifest.json")), &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}

	// The image the build produced is the one in the build region, whatever region the
	// post-processor is configured for.
	built := builtImages(sim, pipelineBuildRegion)
	if len(built) != 1 {
		t.Fatalf("want one image made from an instance in %s, got %d:\n%s", pipelineBuildRegion, len(built), res.Output)
	}
	if m.Source.Region != pipelineBuildRegion || m.Source.ImageID != built[0].ID {
		t.Errorf("manifest source = %s:%s, want %s:%s", m.Source.Region, m.Source.ImageID, pipelineBuildRegion, built[0].ID)
	}
	if len(m.AMIs) != len(pipelineRegions) || len(m.Images) != len(pipelineRegions) {
		t.Errorf("manifest lists %v (%d images), want one image in each of %v", m.AMIs, len(m.Images), pipelineRegions)
	}

	buildID := ""
	for _, region := range pipelineRegions {
		id := m.AMIs[region]
		img, ok := sim.Image(region, id)
		if !ok {
			t.Errorf("%s: the manifest's image %q does not exist", region, id)
			continue
		}
		switch {
		case region == pipelineBuildRegion:
			if id != built[0].ID {
				t.Errorf("%s: manifest image %s, built %s", region, id, built[0].ID)
			}
		case img.SourceImageID != built[0].ID || img.SourceRegion != pipelineBuildRegion:
			t.Errorf("%s: %s is a copy of %s:%s, want a copy of %s:%s", region, id, img.SourceRegion, img.SourceImageID, pipelineBuildRegion, built[0].ID)
		}
		// Provenance and the configured tags on the image and every snapshot.
		want := map[string]string{
			goldentag.SourceAMI: fleet.base,
			goldentag.GitCommit: "0123456789abcdef0123456789abcdef01234567",
			"Pipeline":          pipelineTag,
			"Owner":             "platform",
		}
		for k, v := range want {
			if img.Tags[k] != v {
				t.Errorf("%s: image %s tag %s = %q, want %q", region, id, k, img.Tags[k], v)
			}
		}
		if img.Tags[goldentag.BuildID] == "" || (buildID != "" && img.Tags[goldentag.BuildID] != buildID) {
			t.Errorf("%s: image %s tag %s = %q (first region had %q)", region, id, goldentag.BuildID, img.Tags[goldentag.BuildID], buildID)
		}
		buildID = img.Tags[goldentag.BuildID]
		if img.Tags[goldentag.PackerVersion] == "" || img.Tags[goldentag.BuildName] == "" {
			t.Errorf("%s: image %s lacks %s or %s: %v", region, id, goldentag.PackerVersion, goldentag.BuildName, img.Tags)
		}
		if len(img.BlockDevices) == 0 {
			t.Errorf("%s: image %s has no snapshot", region, id)
		}
		for _, bd := range img.BlockDevices {
			sn, ok := sim.Snapshot(region, bd.SnapshotID)
			if !ok {
				t.Errorf("%s: snapshot %s of %s does not exist", region, bd.SnapshotID, id)
				continue
			}
			for k, v := range want {
				if sn.Tags[k] != v {
					t.Errorf("%s: snapshot %s tag %s = %q, want %q", region, sn.ID, k, sn.Tags[k], v)
				}
			}
			if sn.Tags["Backup"] != "none" || sn.Tags[goldentag.BuildID] != buildID {
				t.Errorf("%s: snapshot %s tags %v", region, sn.ID, sn.Tags)
			}
			if !slices.Contains(snapshotSharedWith(sn), pipelineShare) {
				t.Errorf("%s: snapshot %s is not shared with %s: %v", region, sn.ID, pipelineShare, sn.CreateVolumePermissions)
			}
		}
		if !slices.Contains(imageSharedWith(img), pipelineShare) {
			t.Errorf("%s: image %s is not shared with %s: %v", region, id, pipelineShare, img.LaunchPermissions)
		}
		if v, _ := sim.Parameter(region, pipelineParameter); v != id {
			t.Errorf("%s: SSM parameter %s = %q, want %s", region, pipelineParameter, v, id)
		}
	}
	// The builder's copies were taken as copies already made, not made again.
	for _, region := range builderCopies {
		if n := len(copiesIn(sim, region)); n != 1 {
			t.Errorf("%s: %d copies of the built image, want the builder's one", region, n)
		}
	}

	// The prune: the image the build started from stays, with its snapshot, although it is the
	// oldest image of the pipeline; each region keeps its newest images and the one in use.
	base, ok := sim.Image(pipelineBuildRegion, fleet.base)
	if !ok {
		t.Fatalf("the image the build started from (%s) was deregistered:\n%s", fleet.base, res.Output)
	}
	for _, bd := range base.BlockDevices {
		if _, ok := sim.Snapshot(pipelineBuildRegion, bd.SnapshotID); !ok {
			t.Errorf("the snapshot %s of the image the build started from was deleted", bd.SnapshotID)
		}
	}
	for _, region := range pipelineRegions {
		for i, id := range fleet.old[region] {
			// The new image is the newest; keep_latest keeps the next ones.
			wantKept := i+1 < pipelineKeepLatest || id == fleet.inUse
			if _, kept := sim.Image(region, id); kept != wantKept {
				t.Errorf("%s: old image %s (rank %d) kept=%t, want %t", region, id, i+2, kept, wantKept)
			}
		}
	}
	if !manifestKeeps(m, pipelineBuildRegion, fleet.base, "pinned", "the image this build started from") {
		t.Errorf("the prune report does not say it kept %s as the image the build started from", fleet.base)
	}
	if !manifestKeeps(m, pipelineCopyRegion, fleet.inUse, "in-use", "launch template") {
		t.Errorf("the prune report does not say %s is in use by a launch template", fleet.inUse)
	}
	if !strings.Contains(p.ReadFile(t, "build/prune.json"), fleet.base) {
		t.Errorf("the prune report file does not list %s", fleet.base)
	}
}

func manifestKeeps(m pipelineManifest, region, id, code, detail string) bool {
	for _, plan := range m.Prune.Plans {
		if plan.Region != region {
			continue
		}
		for _, img := range plan.Images {
			if img.ImageID != id || img.Action != "keep" {
				continue
			}
			for _, r := range img.Reasons {
				if r.Code == code && strings.Contains(r.Detail, detail) {
					return true
				}
			}
		}
	}
	return false
}

// copiesIn lists the images of region that CopyImage made.
func copiesIn(sim *ec2sim.Server, region string) []ec2sim.Image {
	var out []ec2sim.Image
	for _, img := range sim.Images(region) {
		if img.SourceImageID != "" {
			out = append(out, img)
		}
	}
	return out
}

func imageSharedWith(img ec2sim.Image) []string {
	var out []string
	for _, p := range img.LaunchPermissions {
		if p.UserID != "" {
			out = append(out, p.UserID)
		}
	}
	return out
}

func snapshotSharedWith(sn ec2sim.Snapshot) []string {
	var out []string
	for _, p := range sn.CreateVolumePermissions {
		if p.UserID != "" {
			out = append(out, p.UserID)
		}
	}
	return out
}

// amazonEBSSource is the official amazon-ebs builder without a machine to log in to: it launches
// an instance from the fleet's base image, images it and copies the image to pipelineRegion
// itself (ami_regions). It does not read AWS_ENDPOINT_URL; custom_endpoint_ec2 points it at the
// simulator.
func amazonEBSSource(sim *ec2sim.Server, base string) string {
	return `source "amazon-ebs" "app" {
  region                    = "` + pipelineBuildRegion + `"
  custom_endpoint_ec2       = "` + sim.URL() + `"
  skip_credential_validation = true
  source_ami                = "` + base + `"
  instance_type             = "t3.micro"
  ami_name                  = "` + pipelineTag + `-{{timestamp}}"
  ami_regions               = ["` + pipelineRegion + `"]
  communicator              = "none"
  tags                      = { Pipeline = "` + pipelineTag + `" }
  aws_polling {
    delay_seconds = 1
    max_attempts  = 300
  }
}`
}

const amazonRequiredPlugin = `    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "= ` + lab.AmazonPluginVersion + `"
    }
`

// TestPipelineAmazonEBSLifecycle runs the official amazon-ebs builder and golden-lifecycle in one
// real packer build against the simulator.
func TestPipelineAmazonEBSLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays})
	fleet := seedPipelineFleet(sim)
	p := lab.Packer(t)
	p.UseSim(sim)
	p.UseAmazonPlugin(t)
	file := p.WriteFile(t, "pipeline.pkr.hcl", pipelineTemplate(sim, amazonRequiredPlugin, amazonEBSSource(sim, fleet.base), "source.amazon-ebs.app", pipelineCopyRegion))
	res := p.Run(t, "build", "-color=false", file)
	if res.ExitCode != 0 {
		t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
	}
	checkPipeline(t, sim, p, res, fleet, []string{pipelineRegion})
}

// goldenEBSPipeline writes the golden-ebs pipeline: one image in the build region, which
// golden-lifecycle copies to both other regions.
func goldenEBSPipeline(t *testing.T, sim *ec2sim.Server, p *lab.PackerEnv, fleet pipelineFleet) string {
	t.Helper()
	source := `source "golden-ebs" "app" {
  region        = "` + pipelineBuildRegion + `"
  source_ami    = "` + fleet.base + `"
  instance_type = "t3.micro"
  ami_name      = "` + pipelineTag + `-{{timestamp}}"
  communicator  = "none"
  tags          = { Pipeline = "` + pipelineTag + `" }
  root_volume {
    kms_key_id = "` + pipelineKeyAlias + `"
  }
  aws_polling {
    delay_seconds = 1
  }
}`
	return p.WriteFile(t, "pipeline.pkr.hcl", pipelineTemplate(sim, "", source, "source.golden-ebs.app", pipelineRegion, pipelineCopyRegion))
}

// TestPipelineGoldenEBSLifecycle is the same pipeline with golden-ebs as the builder. One of its
// regions does not offer EC2's reference check (as in a partition AWS has not brought it to): the
// prune there reads instances, templates and parameters itself, says so, and keeps the same images.
func TestPipelineGoldenEBSLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays,
		Withheld: map[string][]string{pipelineCopyRegion: {"DescribeImageReferences"}}})
	fleet := seedPipelineFleet(sim)
	p := lab.Packer(t)
	p.UseSim(sim)
	res := p.Run(t, "build", "-color=false", goldenEBSPipeline(t, sim, p, fleet))
	if res.ExitCode != 0 {
		t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
	}
	checkPipeline(t, sim, p, res, fleet, nil)
	// Once a run, although the inventory is read before the first change and again to prune.
	if want := pipelineCopyRegion + ": EC2 does not offer DescribeImageReferences here (InvalidAction)"; strings.Count(flat(res.Output), want) != 1 {
		t.Errorf("output has %q %d times, want once:\n%s", want, strings.Count(flat(res.Output), want), res.Output)
	}
	for _, region := range []string{pipelineBuildRegion, pipelineRegion} {
		if strings.Contains(flat(res.Output), region+": EC2 does not offer DescribeImageReferences") {
			t.Errorf("%s offers the reference check, and the output says it does not", region)
		}
	}
}

// TestPipelineFailureAfterPublishing: the SSM parameter of the second region refuses the run after
// the image was copied, shared and published in the build region. Packer then destroys the input
// artifact, keep_input_artifact or not; the image stays because golden-lifecycle protected it, the
// error lists every image, and every SSM parameter names an image that exists.
func TestPipelineFailureAfterPublishing(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim, fleet, res := failedGoldenEBSPipeline(t, func(sim *ec2sim.Server) {
		// Publishing goes region by region: the build region, then each copy's.
		sim.FailNth("PutParameter", 2, "AccessDeniedException", "User is not authorized to perform: ssm:PutParameter")
	})
	built := builtImages(sim, pipelineBuildRegion)
	if len(built) != 1 {
		t.Fatalf("the build's image is gone (%d left):\n%s", len(built), res.Output)
	}
	img := built[0]
	if !img.DeregistrationProtection {
		t.Errorf("%s is not protected from deregistration", img.ID)
	}
	out := flat(res.Output)
	for _, want := range []string{
		"User is not authorized to perform: ssm:PutParameter",
		"images so far: " + pipelineBuildRegion + ":" + img.ID + ",",
		pipelineBuildRegion + ":" + img.ID + " is kept",
		"aws ec2 disable-image-deregistration-protection --region " + pipelineBuildRegion + " --image-id " + img.ID,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
	for _, region := range []string{pipelineRegion, pipelineCopyRegion} {
		if n := len(copiesIn(sim, region)); n != 1 {
			t.Errorf("%s: %d copies, want 1", region, n)
		}
		if !strings.Contains(out, region+":") {
			t.Errorf("the error does not list the copy in %s:\n%s", region, res.Output)
		}
	}
	checkParametersResolve(t, sim)
	// Nothing was pruned: the prune runs after the distribution.
	checkNothingPruned(t, sim, fleet)
}

// TestPipelineFailureBeforeAnyChange: a copy refused by EC2's permission check stops the run before
// anything changed; golden-lifecycle warns that Packer deletes the input, which Packer does,
// although the block sets keep_input_artifact = true.
func TestPipelineFailureBeforeAnyChange(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim, fleet, res := failedGoldenEBSPipeline(t, func(sim *ec2sim.Server) {
		sim.FailNth("CopyImage", 1, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	})
	out := flat(res.Output)
	for _, want := range []string{
		"(ec2:CopyImage)", "You are not authorized to perform this operation.", "(nothing was changed)",
		"Packer now deletes the build's image",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
	if n := sim.Calls("PutParameter"); n != 0 {
		t.Errorf("PutParameter called %d times", n)
	}
	checkNothingPruned(t, sim, fleet)
	if _, ok := sim.Parameter(pipelineBuildRegion, pipelineParameter); ok {
		t.Errorf("the SSM parameter was published")
	}
	if n := len(builtImages(sim, pipelineBuildRegion)); n != 0 {
		t.Errorf("%d built images left: Packer was expected to delete the input of a failed post-processor", n)
	}
	for _, region := range []string{pipelineRegion, pipelineCopyRegion} {
		if n := len(copiesIn(sim, region)); n != 0 {
			t.Errorf("%s: %d copies", region, n)
		}
	}
}

// failedGoldenEBSPipeline runs the golden-ebs pipeline against a fresh fleet with the faults
// inject sets, and fails the test unless packer build fails.
func failedGoldenEBSPipeline(t *testing.T, inject func(*ec2sim.Server)) (*ec2sim.Server, pipelineFleet, lab.Result) {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays})
	fleet := seedPipelineFleet(sim)
	p := lab.Packer(t)
	p.UseSim(sim)
	file := goldenEBSPipeline(t, sim, p, fleet)
	inject(sim)
	res := p.Run(t, "build", "-color=false", file)
	if res.ExitCode == 0 {
		t.Fatalf("packer build succeeded:\n%s", res.Output)
	}
	return sim, fleet, res
}

// checkNothingPruned fails the test when an old image of the fleet is gone: a failed run prunes
// nothing.
func checkNothingPruned(t *testing.T, sim *ec2sim.Server, fleet pipelineFleet) {
	t.Helper()
	for _, region := range pipelineRegions {
		for _, id := range fleet.old[region] {
			if _, ok := sim.Image(region, id); !ok {
				t.Errorf("%s: %s was pruned by a failed run", region, id)
			}
		}
	}
}

// checkParametersResolve fails the test when an SSM parameter of the pipeline names an image that
// does not exist.
func checkParametersResolve(t *testing.T, sim *ec2sim.Server) {
	t.Helper()
	for _, region := range pipelineRegions {
		v, ok := sim.Parameter(region, pipelineParameter)
		if !ok {
			continue
		}
		if _, exists := sim.Image(region, v); !exists {
			t.Errorf("%s: SSM parameter %s names %s, which does not exist", region, pipelineParameter, v)
		}
	}
}
