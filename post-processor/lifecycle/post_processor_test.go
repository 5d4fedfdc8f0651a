package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/internal/syncbuf"
)

// The build region, and the accounts and organisation the test shares with.
const (
	buildRegion = "us-east-1"
	shareAcct   = "444455556666"
	orgARN      = "arn:aws:organizations::123456789012:organization/o-exampleorg1"
	ouARN       = "arn:aws:organizations::123456789012:ou/o-exampleorg1/ou-ab12-cdefgh34"
	foreignAcct = "999988887777"
	pipeline    = "golden-ubuntu"
)

var copyRegions = []string{"us-west-2", "eu-west-1"}

// cmks are a test's customer managed KMS keys: the built image's, and one per copy region.
type cmks struct {
	// source encrypts the seeded images; west is us-west-2's key by ARN, euAlias eu-west-1's by
	// alias, as kms_key_ids takes either.
	source, west, euAlias string
	// copyARN is the key ARN EC2 records on the snapshots of the copy to each region.
	copyARN map[string]string
}

func addKeys(sim *ec2sim.Server) cmks {
	_, source := sim.AddKMSKey(buildRegion, "golden")
	_, west := sim.AddKMSKey("us-west-2", "golden-west")
	_, eu := sim.AddKMSKey("eu-west-1", "golden-eu")
	return cmks{source: source, west: west, euAlias: "alias/golden-eu", copyARN: map[string]string{"us-west-2": west, "eu-west-1": eu}}
}

// testArtifact is an artifact of the shape EC2 builders produce.
type testArtifact struct {
	builderID, id string
	state         map[string]interface{}
}

func (a *testArtifact) BuilderId() string             { return a.builderID }
func (a *testArtifact) Files() []string               { return nil }
func (a *testArtifact) Id() string                    { return a.id }
func (a *testArtifact) String() string                { return a.id }
func (a *testArtifact) State(name string) interface{} { return a.state[name] }
func (a *testArtifact) Destroy() error                { return nil }
func amazonEBSArtifact(id, sourceAMI string) *testArtifact {
	return &testArtifact{builderID: amiref.BuilderIDAmazonEBS, id: buildRegion + ":" + id, state: map[string]interface{}{
		"generated_data": map[string]interface{}{"SourceAMI": sourceAMI, "BuildRegion": buildRegion, "PackerRunUUID": "run-0001"},
	}}
}

// goldenEBSArtifact carries its provenance in its state, as golden-ebs does, with a hardening
// result other than the harden_report of fullConfig: the artifact's must win.
func goldenEBSArtifact(id, sourceAMI string) *testArtifact {
	return &testArtifact{builderID: amiref.BuilderIDGoldenEBS, id: buildRegion + ":" + id, state: map[string]interface{}{
		goldentag.BuildID:       "golden-build-0002",
		goldentag.SourceAMI:     sourceAMI,
		goldentag.HardenProfile: "cis-level2-server",
		goldentag.HardenScore:   97.5,
	}}
}

// writeHardenReport writes a golden-harden JSON report as the provisioner does.
func writeHardenReport(t *testing.T, dir, suite, profile string, score float64) string {
	t.Helper()
	r := &report.Report{Suite: suite, Score: score}
	if profile != "" {
		r.Properties = []report.Property{{Name: "profile", Value: profile}, {Name: "mode", Value: "enforce"}}
	}
	path := filepath.Join(dir, "harden.json")
	if err := r.WriteFile(path, report.FormatJSON); err != nil {
		t.Fatal(err)
	}
	return path
}

// provenanceTags are the provenance tags fullConfig's runs must write, beside the build id and
// hardening result that depend on the artifact.
func provenanceTags(f fleet, buildID, hardenProfile, hardenScore string) map[string]string {
	return map[string]string{
		goldentag.BuildID: buildID, goldentag.SourceAMI: f.base,
		goldentag.GitCommit: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", goldentag.GitRef: "refs/heads/main",
		goldentag.BuildName: "ubuntu", goldentag.PackerVersion: "1.12.0",
		goldentag.HardenProfile: hardenProfile, goldentag.HardenScore: hardenScore,
	}
}

// The provenance of fullConfig's runs on each kind of artifact: amazon-ebs has its hardening
// result from harden_report (91.66... rounds to 91.7), golden-ebs from its state.
func amazonEBSProvenance(f fleet) map[string]string {
	return provenanceTags(f, "run-0001", "cis-level1-server", "91.7")
}

func goldenEBSProvenance(f fleet) map[string]string {
	return provenanceTags(f, "golden-build-0002", "cis-level2-server", "97.5")
}

// testUI is a Ui whose output the copy goroutines share.
func testUI() (packersdk.Ui, *syncbuf.Buffer) {
	out := &syncbuf.Buffer{}
	return &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: out, ErrorWriter: out}, out
}

func startSim(t *testing.T, delays ec2sim.Delays) *ec2sim.Server {
	t.Helper()
	return startSimLogging(t, delays, func(string, ...any) {})
}

// startSimLogging is startSim with the simulator's request log ("region service action" per
// request) going to logf.
func startSimLogging(t *testing.T, delays ec2sim.Delays, logf func(string, ...any)) *ec2sim.Server {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: delays, Logf: logf})
	t.Setenv("AWS_ENDPOINT_URL", sim.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSIMULATOR")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "simulator")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("PACKER_RUN_UUID", "")
	return sim
}

func daysAgo(n int) time.Time { return time.Now().UTC().Add(-time.Duration(n) * 24 * time.Hour) }

// fleet is the seeded account: the image the build produced, the image it started from, and older
// images of the pipeline in every situation the prune must tell apart.
type fleet struct {
	built, base string
	keys        cmks
	// keep lists region -> images that must survive, with why; gone lists images to be deleted.
	keep, gone map[string][]string
	// keptSnapshots must survive, goneSnapshots must be deleted (region -> ids).
	keptSnapshots, goneSnapshots map[string][]string
}

func seedFleet(t *testing.T, sim *ec2sim.Server) fleet {
	t.Helper()
	f := fleet{keys: addKeys(sim), keep: map[string][]string{}, gone: map[string][]string{}, keptSnapshots: map[string][]string{}, goneSnapshots: map[string][]string{}}
	n := 0
	img := func(region string, age int, mods ...func(*ec2sim.ImageSeed)) string {
		n++
		seed := ec2sim.ImageSeed{
			Name: "golden-ubuntu-22.04-" + time.Now().Add(time.Duration(n)*time.Second).Format("20060102150405"), CreationDate: daysAgo(age),
			Tags:      map[string]string{"Pipeline": pipeline},
			Snapshots: []ec2sim.SnapshotSeed{{SizeGiB: 10, Encrypted: true, KmsKeyID: f.keys.source}},
		}
		for _, m := range mods {
			m(&seed)
		}
		return sim.AddImage(region, seed)
	}
	snapOf := func(region, id string) string {
		im, ok := sim.Image(region, id)
		if !ok || len(im.BlockDevices) == 0 {
			t.Fatalf("seeded image %s has no snapshot", id)
		}
		return im.BlockDevices[0].SnapshotID
	}
	keep := func(region, id string) string { f.keep[region] = append(f.keep[region], id); return id }
	gone := func(region, id string) string {
		f.gone[region] = append(f.gone[region], id)
		f.goneSnapshots[region] = append(f.goneSnapshots[region], snapOf(region, id))
		return id
	}

	r := buildRegion
	f.base = keep(r, img(r, 400))
	f.built = keep(r, img(r, 0))
	keep(r, img(r, 5))  // among the 2 newest
	keep(r, img(r, 10)) // beyond the newest, but younger than 30 days

	stopped := keep(r, img(r, 100))
	sim.AddInstance(r, ec2sim.InstanceSeed{ImageID: stopped, State: "stopped"})

	oldVersion := keep(r, img(r, 101))
	sim.AddLaunchTemplate(r, ec2sim.LaunchTemplateSeed{Name: "web", Versions: []string{oldVersion, f.built, f.built}, DefaultVersion: 3})

	viaSSM := keep(r, img(r, 102))
	sim.PutParameter(r, "/golden/pinned", viaSSM, "text")
	sim.AddLaunchTemplate(r, ec2sim.LaunchTemplateSeed{Name: "pinned", Versions: []string{"resolve:ssm:/golden/pinned"}})

	asgLT := keep(r, img(r, 103))
	sim.AddLaunchTemplate(r, ec2sim.LaunchTemplateSeed{Name: "api", Versions: []string{asgLT}})
	sim.AddAutoScalingGroup(r, ec2sim.ASGSeed{Name: "api-asg", LaunchTemplateName: "api", LaunchTemplateVersion: "$Latest"})

	mixed := keep(r, img(r, 104))
	mixedLT := sim.AddLaunchTemplate(r, ec2sim.LaunchTemplateSeed{Name: "batch", Versions: []string{mixed}})
	sim.AddAutoScalingGroup(r, ec2sim.ASGSeed{Name: "batch-asg", LaunchTemplateID: mixedLT, MixedInstancesPolicy: true})

	lc := keep(r, img(r, 105))
	sim.AddLaunchConfiguration(r, "legacy-lc", lc)
	sim.AddAutoScalingGroup(r, ec2sim.ASGSeed{Name: "legacy-asg", LaunchConfigurationName: "legacy-lc"})

	param := keep(r, img(r, 106))
	sim.PutParameter(r, "/golden/prod", param, "aws:ec2:image")

	kept := keep(r, img(r, 107, func(s *ec2sim.ImageSeed) { s.Tags[DefaultKeepTag] = "release 1.0" }))
	shared := snapOf(r, kept)
	f.keptSnapshots[r] = append(f.keptSnapshots[r], shared)

	keep(r, img(r, 108, func(s *ec2sim.ImageSeed) { s.DeregistrationProtection = true }))
	keep(r, img(r, 109, func(s *ec2sim.ImageSeed) { s.OwnerID = foreignAcct }))
	// Not the pipeline's: another name and no tag.
	keep(r, img(r, 300, func(s *ec2sim.ImageSeed) { s.Name = "web-server-1"; s.Tags = nil }))

	// Deleted: old and unused. The first shares its snapshot with the keep-tagged image, which
	// keeps it; the second has two snapshots.
	old1 := img(r, 110, func(s *ec2sim.ImageSeed) { s.Snapshots = []ec2sim.SnapshotSeed{{ID: shared, SizeGiB: 10}} })
	f.gone[r] = append(f.gone[r], old1)
	gone(r, img(r, 111, func(s *ec2sim.ImageSeed) {
		s.Snapshots = []ec2sim.SnapshotSeed{{SizeGiB: 8}, {SizeGiB: 100}}
	}))
	im, _ := sim.Image(r, f.gone[r][1])
	f.goneSnapshots[r] = append(f.goneSnapshots[r], im.BlockDevices[1].SnapshotID)
	gone(r, img(r, 112))
	// An instance that terminated long ago does not keep its image.
	terminated := gone(r, img(r, 113))
	sim.AddInstance(r, ec2sim.InstanceSeed{ImageID: terminated, State: "terminated"})

	// The copy regions hold copies of earlier builds: with this run's copy, the 60-day-old one is
	// among the 2 newest.
	keep("us-west-2", img("us-west-2", 60))
	gone("us-west-2", img("us-west-2", 120))
	eu := keep("eu-west-1", img("eu-west-1", 120))
	sim.AddInstance("eu-west-1", ec2sim.InstanceSeed{ImageID: eu})
	return f
}

// fullConfig uses every option, pruning for real.
func fullConfig(t *testing.T, keys cmks) map[string]interface{} {
	dir := t.TempDir()
	return map[string]interface{}{
		"region":                    buildRegion,
		"max_retries":               20,
		"tags":                      map[string]string{"Team": "platform"},
		"snapshot_tags":             map[string]string{"Backup": "none"},
		"git_commit":                "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
		"git_ref":                   "refs/heads/main",
		"copy_to":                   slices.Clone(copyRegions),
		"encrypt_copies":            true,
		"kms_key_ids":               map[string]string{"us-west-2": keys.west, "eu-west-1": keys.euAlias},
		"poll_interval":             "1s",
		"harden_report":             writeHardenReport(t, dir, "golden-harden", "cis-level1-server", 91.66666),
		"share_with":                []string{shareAcct},
		"share_with_org_arns":       []string{orgARN},
		"share_with_ou_arns":        []string{ouARN},
		"deprecate_after":           "90d",
		"deregistration_protection": map[string]interface{}{"enabled": true, "with_cooldown": true},
		"ssm_parameter":             "/golden/ubuntu/latest",
		"manifest":                  filepath.Join(dir, "manifest.json"),
		"prune": map[string]interface{}{
			"match_tags":  map[string]string{"Pipeline": pipeline},
			"keep_latest": 2,
			"older_than":  "30d",
			"report":      filepath.Join(dir, "prune.json"),
		},
		"packer_build_name":   "ubuntu",
		"packer_core_version": "1.12.0",
	}
}

func configure(t *testing.T, raw map[string]interface{}) *PostProcessor {
	t.Helper()
	p := &PostProcessor{progressEvery: 300 * time.Millisecond}
	if err := p.Configure(raw); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return p
}

// mustPostProcess runs the post-processor on input with a recording UI and fails the test on error.
func mustPostProcess(t *testing.T, p *PostProcessor, input packersdk.Artifact) (packersdk.Artifact, *syncbuf.Buffer) {
	t.Helper()
	ui, out := testUI()
	art, _, _, err := p.PostProcess(context.Background(), ui, input)
	if err != nil {
		t.Fatalf("PostProcess: %v\n%s", err, out)
	}
	return art, out
}

func TestPostProcessAmazonEBSArtifact(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{CopyPending: 1500 * time.Millisecond, SnapshotPending: 500 * time.Millisecond})
	f := seedFleet(t, sim)
	raw := fullConfig(t, f.keys)
	p := configure(t, raw)
	ui, out := testUI()

	art, keep, force, err := p.PostProcess(context.Background(), ui, amazonEBSArtifact(f.built, f.base))
	if err != nil {
		t.Fatalf("PostProcess: %v\n%s", err, out)
	}
	if !keep || !force {
		t.Errorf("keep=%v forceOverride=%v, want both true", keep, force)
	}
	checkDistribution(t, sim, f, art, amazonEBSProvenance(f))
	checkPrune(t, sim, f)
	// The keys of the built image and of the two copies were each asked about once.
	if n := sim.Calls("DescribeKey"); n != 3 {
		t.Errorf("%d DescribeKey calls, want 3", n)
	}

	// The plan was printed with reasons, and the copies reported progress while pending.
	for _, want := range []string{
		"Prune plan for us-east-1", "in use by instance i-", "launch template lt-",
		"via resolve:ssm:/golden/pinned", "Auto Scaling group api-asg", "Auto Scaling group batch-asg",
		"launch configuration legacy-lc", "SSM parameter /golden/prod", "tagged golden:keep=", "deregistration protection is on",
		"produced by this build", "the image this build started from", "newest 2 of keep_latest 2",
		"younger than older_than 30d", "rank 13 beyond keep_latest 2", "still pending after",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("UI output lacks %q", want)
		}
	}

	// The manifest and the prune report.
	checkRunManifest(t, sim, raw["manifest"].(string), art, amazonEBSProvenance(f))
	var m lifecycle.Manifest
	readJSON(t, raw["manifest"].(string), &m)
	if m.Prune == nil || m.Prune.ImagesDeleted != len(f.gone[buildRegion])+len(f.gone["us-west-2"]) || m.Prune.ReclaimedGiB == 0 {
		t.Errorf("manifest prune report: %+v", m.Prune)
	}
	var report lifecycle.Report
	readJSON(t, raw["prune"].(map[string]interface{})["report"].(string), &report)
	if len(report.Plans) != 3 || report.MonthlySavings <= 0 {
		t.Errorf("prune report: %d plans, savings %v", len(report.Plans), report.MonthlySavings)
	}
	if state, _ := art.State("prune").(string); !strings.Contains(state, `"reclaimed_gib": 138`) {
		t.Errorf("artifact state prune = %.200q", state)
	}
	if art.State("manifest") != raw["manifest"] || !slices.Contains(art.Files(), raw["manifest"].(string)) {
		t.Errorf("artifact manifest state %v, files %v", art.State("manifest"), art.Files())
	}
	// 8 + 100 + 10 + 10 GiB in us-east-1 and 10 in us-west-2; the shared snapshot stays.
	if report.ReclaimedGiB != 138 {
		t.Errorf("reclaimed %d GiB, want 138", report.ReclaimedGiB)
	}
}

// checkRunManifest asserts the manifest records every region's image as the simulator has it: id,
// snapshots, tags, deprecation time and SSM parameter, with the build's identity and the time.
func checkRunManifest(t *testing.T, sim *ec2sim.Server, path string, art packersdk.Artifact, prov map[string]string) {
	t.Helper()
	var m lifecycle.Manifest
	readJSON(t, path, &m)
	if m.BuildName != "ubuntu" || m.BuildID != prov[goldentag.BuildID] || m.PackerVersion != "1.12.0" ||
		m.Source != (lifecycle.ImageRef{Region: buildRegion, ImageID: art.State("amis").(map[string]string)[buildRegion]}) {
		t.Errorf("manifest build fields: %+v", m)
	}
	if age := time.Since(m.GeneratedAt); age < 0 || age > 10*time.Minute {
		t.Errorf("manifest generated_at %s", m.GeneratedAt)
	}
	amis := art.State("amis").(map[string]string)
	if len(m.AMIs) != len(amis) || len(m.Images) != len(amis) {
		t.Fatalf("manifest lists %v and %d images, the artifact %v", m.AMIs, len(m.Images), amis)
	}
	for _, mi := range m.Images {
		if amis[mi.Region] != mi.ImageID || m.AMIs[mi.Region] != mi.ImageID {
			t.Errorf("manifest image %s:%s, artifact has %s", mi.Region, mi.ImageID, amis[mi.Region])
		}
		img, ok := sim.Image(mi.Region, mi.ImageID)
		if !ok {
			t.Errorf("manifest image %s:%s does not exist", mi.Region, mi.ImageID)
			continue
		}
		var snaps []string
		for _, bd := range img.BlockDevices {
			snaps = append(snaps, bd.SnapshotID)
		}
		if !slices.Equal(mi.Snapshots, snaps) {
			t.Errorf("manifest %s snapshots %v, the image has %v", mi.Region, mi.Snapshots, snaps)
		}
		for k, v := range prov {
			if mi.Tags[k] != v || img.Tags[k] != v {
				t.Errorf("manifest %s tag %s = %q (image: %q), want %q", mi.Region, k, mi.Tags[k], img.Tags[k], v)
			}
		}
		if mi.CreationDate == nil || !mi.CreationDate.Equal(img.CreationDate.Truncate(time.Millisecond)) {
			t.Errorf("manifest %s creation date %v, the image's %s", mi.Region, mi.CreationDate, img.CreationDate)
		}
		if mi.DeprecationTime == nil || !mi.DeprecationTime.Equal(img.DeprecationTime) {
			t.Errorf("manifest %s deprecation time %v, the image's %s", mi.Region, mi.DeprecationTime, img.DeprecationTime)
		}
		if mi.SSMParameter != "/golden/ubuntu/latest" {
			t.Errorf("manifest %s ssm_parameter %q", mi.Region, mi.SSMParameter)
		}
		if (mi.Region != buildRegion) != (mi.CopiedFrom == buildRegion+":"+amis[buildRegion]) {
			t.Errorf("manifest %s copied_from %q", mi.Region, mi.CopiedFrom)
		}
	}
}

// parameterDataType reads a parameter's data type through the SSM API.
func parameterDataType(t *testing.T, region, name string) string {
	t.Helper()
	access := &awsconf.AccessConfig{Region: region}
	if errs := access.Prepare(); len(errs) > 0 {
		t.Fatal(errs)
	}
	client, err := access.SSMClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("GetParameter %s in %s: %v", name, region, err)
	}
	return aws.ToString(out.Parameter.DataType)
}

// checkDistribution asserts the image is tagged (provenance on the image and on its snapshots),
// copied, shared, deprecated, protected and published in every region.
func checkDistribution(t *testing.T, sim *ec2sim.Server, f fleet, art packersdk.Artifact, prov map[string]string) {
	t.Helper()
	if art.BuilderId() != BuilderID {
		t.Errorf("BuilderId %q", art.BuilderId())
	}
	refs, err := amiref.Parse(art.Id())
	if err != nil || len(refs) != 3 {
		t.Fatalf("artifact id %q: %v", art.Id(), err)
	}
	amis := art.State("amis").(map[string]string)
	if amis[buildRegion] != f.built {
		t.Errorf("amis[%s] = %s, want the built image %s", buildRegion, amis[buildRegion], f.built)
	}
	for _, region := range append([]string{buildRegion}, copyRegions...) {
		id := amis[region]
		img, ok := sim.Image(region, id)
		if !ok {
			t.Fatalf("%s:%s does not exist", region, id)
		}
		if img.State != "available" {
			t.Errorf("%s:%s is %s", region, id, img.State)
		}
		imageTags := lifecycle.MergeTags(prov, map[string]string{"Pipeline": pipeline, "Team": "platform"})
		for k, v := range imageTags {
			if img.Tags[k] != v {
				t.Errorf("%s:%s tag %s = %q, want %q", region, id, k, img.Tags[k], v)
			}
		}
		if region != buildRegion {
			if img.Tags[lifecycle.CopiedFromTag] != buildRegion+":"+f.built || img.SourceImageID != f.built {
				t.Errorf("%s:%s is not a copy of the built image: %+v", region, id, img.Tags)
			}
			want := f.keys.copyARN[region]
			if len(img.BlockDevices) == 0 || !img.BlockDevices[0].Encrypted || img.BlockDevices[0].KmsKeyID != want {
				t.Errorf("%s:%s block devices %+v, want encrypted with %s", region, id, img.BlockDevices, want)
			}
		}
		for _, perm := range []ec2sim.LaunchPermission{{UserID: shareAcct}, {OrganizationArn: orgARN}, {OrganizationalUnitArn: ouARN}} {
			if !slices.Contains(img.LaunchPermissions, perm) {
				t.Errorf("%s:%s launch permissions %+v lack %+v", region, id, img.LaunchPermissions, perm)
			}
		}
		if d := time.Until(img.DeprecationTime); d < 89*24*time.Hour || d > 91*24*time.Hour {
			t.Errorf("%s:%s deprecation time %s, want in 90 days", region, id, img.DeprecationTime)
		}
		if !img.DeregistrationProtection || !img.ProtectionCooldown {
			t.Errorf("%s:%s deregistration protection %v, cooldown %v; want both", region, id, img.DeregistrationProtection, img.ProtectionCooldown)
		}
		for _, bd := range img.BlockDevices {
			snap, _ := sim.Snapshot(region, bd.SnapshotID)
			for k, v := range lifecycle.MergeTags(imageTags, map[string]string{"Backup": "none"}) {
				if k != "Pipeline" && snap.Tags[k] != v {
					t.Errorf("%s snapshot %s tag %s = %q, want %q", region, snap.ID, k, snap.Tags[k], v)
				}
			}
			if !slices.Contains(snap.CreateVolumePermissions, ec2sim.CreateVolumePermission{UserID: shareAcct}) {
				t.Errorf("%s snapshot %s volume permissions %+v", region, snap.ID, snap.CreateVolumePermissions)
			}
		}
		if v, ok := sim.Parameter(region, "/golden/ubuntu/latest"); !ok || v != id {
			t.Errorf("SSM parameter in %s = %q, want %s", region, v, id)
		} else if dt := parameterDataType(t, region, "/golden/ubuntu/latest"); dt != lifecycle.ImageDataType {
			t.Errorf("SSM parameter in %s has data type %q, want %s", region, dt, lifecycle.ImageDataType)
		}
	}
}

// checkPrune asserts what the prune deleted and what it kept.
func checkPrune(t *testing.T, sim *ec2sim.Server, f fleet) {
	t.Helper()
	imageExists := func(region, id string) bool { _, ok := sim.Image(region, id); return ok }
	snapshotExists := func(region, id string) bool { _, ok := sim.Snapshot(region, id); return ok }
	for _, c := range []struct {
		ids    map[string][]string
		exists func(region, id string) bool
		want   bool
		wrong  string
	}{
		{f.gone, imageExists, false, "image %s:%s should have been pruned"},
		{f.keep, imageExists, true, "image %s:%s was pruned but must stay"},
		{f.goneSnapshots, snapshotExists, false, "%s snapshot %s should have been deleted"},
		{f.keptSnapshots, snapshotExists, true, "%s snapshot %s is still used by a kept image but was deleted"},
	} {
		for region, ids := range c.ids {
			for _, id := range ids {
				if c.exists(region, id) != c.want {
					t.Errorf(c.wrong, region, id)
				}
			}
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// mutatingActions are every call that changes something.
var mutatingActions = []string{
	"CreateTags", "CopyImage", "DeregisterImage", "DeleteSnapshot", "ModifyImageAttribute", "ModifySnapshotAttribute",
	"EnableImageDeprecation", "EnableImageDeregistrationProtection", "PutParameter",
}

func TestPostProcessGoldenEBSArtifactDryRun(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	f := seedFleet(t, sim)
	raw := fullConfig(t, f.keys)
	raw["dry_run"] = true
	p := configure(t, raw)
	before := len(sim.Images("us-west-2"))
	sim.ResetCalls()

	art, out := mustPostProcess(t, p, goldenEBSArtifact(f.built, f.base))
	for _, action := range mutatingActions {
		if n := sim.Calls(action); n != 0 {
			t.Errorf("dry run called %s %d times", action, n)
		}
	}
	if art.Id() != buildRegion+":"+f.built {
		t.Errorf("dry run artifact %q, want only the built image", art.Id())
	}
	if len(sim.Images("us-west-2")) != before {
		t.Errorf("dry run created images in us-west-2")
	}
	for region, ids := range f.gone {
		for _, id := range ids {
			if _, ok := sim.Image(region, id); !ok {
				t.Errorf("dry run deleted %s:%s", region, id)
			}
		}
	}
	for _, want := range []string{
		"[dry run] would copy " + buildRegion + ":" + f.built + " to us-west-2 encrypted with " + f.keys.west,
		"[dry run] would share", "[dry run] would deprecate", "[dry run] would enable deregistration protection",
		"[dry run] would publish", "[dry run] would tag", "would delete (dry run)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("UI output lacks %q:\n%s", want, out)
		}
	}
	// The tags the dry run would have written: a golden-ebs artifact's provenance from its state.
	var m lifecycle.Manifest
	readJSON(t, raw["manifest"].(string), &m)
	if !m.DryRun || len(m.Images) != 1 {
		t.Fatalf("dry-run manifest: %+v", m)
	}
	for k, v := range goldenEBSProvenance(f) {
		if m.Images[0].Tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, m.Images[0].Tags[k], v)
		}
	}
}

// TestPostProcessGoldenEBSProvenance: the provenance a golden-ebs artifact carries in its state,
// hardening result included, is on the image and its snapshots in every region, the copies' too;
// it wins over harden_report.
func TestPostProcessGoldenEBSProvenance(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	f := seedFleet(t, sim)
	raw := fullConfig(t, f.keys)
	delete(raw, "prune")
	p := configure(t, raw)
	art, _ := mustPostProcess(t, p, goldenEBSArtifact(f.built, f.base))
	checkDistribution(t, sim, f, art, goldenEBSProvenance(f))
	checkRunManifest(t, sim, raw["manifest"].(string), art, goldenEBSProvenance(f))
	if got := art.State(registryimage.ArtifactStateURI).([]*registryimage.Image); len(got) != 3 || got[0].SourceImageID != f.base {
		t.Errorf("HCP Packer images %+v, want 3 with source %s", got, f.base)
	}
}

// TestPostProcessHardenReportErrors: a harden_report that cannot give a hardening result fails
// the run, naming the option, before any change.
func TestPostProcessHardenReportErrors(t *testing.T) {
	cases := []struct {
		name  string
		write func(t *testing.T, dir string) string
		want  []string
	}{
		{"missing file", func(t *testing.T, dir string) string { return filepath.Join(dir, "none.json") }, []string{"harden_report", "none.json", "no such file"}},
		{"not JSON", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "harden.xml")
			if err := os.WriteFile(path, []byte("<testsuites/>"), 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}, []string{"harden_report", "harden.xml", "JSON"}},
		{"another suite's report", func(t *testing.T, dir string) string {
			return writeHardenReport(t, dir, "golden-validate", "cis-level1-server", 100)
		}, []string{"harden_report", `"golden-validate"`, "not of golden-harden"}},
		{"no profile", func(t *testing.T, dir string) string {
			return writeHardenReport(t, dir, "golden-harden", "", 100)
		}, []string{"harden_report", "names no profile"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, ec2sim.Delays{})
			built := sim.AddImage(buildRegion, ec2sim.ImageSeed{Name: "golden-report"})
			p := configure(t, map[string]interface{}{
				"region": buildRegion, "copy_to": []string{"us-west-2"}, "tags": map[string]string{"Team": "platform"},
				"harden_report": tc.write(t, t.TempDir()),
			})
			ui, out := testUI()
			sim.ResetCalls()
			_, _, _, err := p.PostProcess(context.Background(), ui, amazonEBSArtifact(built, ""))
			if err == nil {
				t.Fatalf("PostProcess succeeded:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if calls := sim.CallCounts(); len(calls) != 0 {
				t.Errorf("AWS was called: %v", calls)
			}
		})
	}
}

// TestPostProcessPrunePinsTheBuildAndItsCopies: the image this run built and its copies are never
// pruned, even where other images rank before them: here two images registered a day later (a
// concurrent build, or a clock ahead) push them out of keep_latest, and older_than is not set.
func TestPostProcessPrunePinsTheBuildAndItsCopies(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	tags := map[string]string{"Pipeline": pipeline}
	built := sim.AddImage(buildRegion, ec2sim.ImageSeed{Name: "golden-pin-0", Tags: tags, CreationDate: time.Now().UTC()})
	later := map[string][]string{}
	for _, region := range []string{buildRegion, "us-west-2"} {
		for day := 1; day <= 2; day++ {
			later[region] = append(later[region], sim.AddImage(region, ec2sim.ImageSeed{
				Name: fmt.Sprintf("golden-pin-%d", day), Tags: tags, CreationDate: time.Now().UTC().Add(time.Duration(day) * 24 * time.Hour),
			}))
		}
	}
	p := configure(t, map[string]interface{}{
		"region": buildRegion, "copy_to": []string{"us-west-2"}, "poll_interval": "1s",
		"prune": map[string]interface{}{"match_tags": tags, "keep_latest": 1},
	})
	art, out := mustPostProcess(t, p, amazonEBSArtifact(built, ""))
	amis := art.State("amis").(map[string]string)
	for region, id := range amis {
		if _, ok := sim.Image(region, id); !ok {
			t.Errorf("%s:%s, made by this run, was pruned", region, id)
		}
		// The newest stays (keep_latest 1); the second newest, ranked before this run's image, goes.
		if _, ok := sim.Image(region, later[region][1]); !ok {
			t.Errorf("%s: the newest image %s was pruned", region, later[region][1])
		}
		if _, ok := sim.Image(region, later[region][0]); ok {
			t.Errorf("%s: %s, second newest and unused, was kept", region, later[region][0])
		}
	}
	for _, want := range []string{"produced by this build", "copy made by this run"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the plan does not say %q:\n%s", want, out)
		}
	}
}

func TestPostProcessPruneDryRunOnly(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	f := seedFleet(t, sim)
	raw := fullConfig(t, f.keys)
	raw["prune"].(map[string]interface{})["dry_run"] = true
	p := configure(t, raw)
	art, out := mustPostProcess(t, p, amazonEBSArtifact(f.built, f.base))
	checkDistribution(t, sim, f, art, amazonEBSProvenance(f))
	if n := sim.Calls("DeregisterImage") + sim.Calls("DeleteSnapshot"); n != 0 {
		t.Errorf("prune dry run made %d deletions", n)
	}
	if !strings.Contains(out.String(), "would delete (dry run)") {
		t.Errorf("no dry-run plan printed:\n%s", out)
	}
}

// TestPostProcessThrottled: with 30% of all calls throttled, the whole run still completes.
func TestPostProcessThrottled(t *testing.T) {
	if testing.Short() {
		t.Skip("the SDK's retry backoff makes this run take most of a minute")
	}
	sim := startSim(t, ec2sim.Delays{CopyPending: time.Second})
	f := seedFleet(t, sim)
	p := configure(t, fullConfig(t, f.keys))
	ui, out := testUI()
	sim.ResetCalls()
	sim.Throttle(30)
	art, _, _, err := p.PostProcess(context.Background(), ui, amazonEBSArtifact(f.built, f.base))
	sim.Throttle(0)
	if err != nil {
		t.Fatalf("PostProcess under throttling: %v\n%s", err, out)
	}
	checkDistribution(t, sim, f, art, amazonEBSProvenance(f))
	checkPrune(t, sim, f)
	total := 0
	for _, n := range sim.CallCounts() {
		total += n
	}
	t.Logf("%d calls in all, throttled ones included", total)
}

// leftovers lists the images and snapshots of the copy regions that were not there before.
func leftovers(sim *ec2sim.Server, before map[string]int) []string {
	var out []string
	for _, region := range copyRegions {
		imgs := sim.Images(region)
		snaps := sim.Snapshots(region)
		if len(imgs)+len(snaps) != before[region] {
			for _, im := range imgs {
				if im.SourceImageID != "" {
					out = append(out, region+":"+im.ID+" ("+im.State+")")
				}
			}
			for _, s := range snaps {
				if s.Tags[lifecycle.CopyTokenTag] != "" || strings.HasPrefix(s.Description, "Copied for") {
					out = append(out, region+":"+s.ID)
				}
			}
		}
	}
	return out
}

func countResources(sim *ec2sim.Server) map[string]int {
	m := map[string]int{}
	for _, region := range copyRegions {
		m[region] = len(sim.Images(region)) + len(sim.Snapshots(region))
	}
	return m
}

// TestPostProcessInterruptedCopyLeavesNothing: a copy cancelled, failing while waited for, or
// running past copy_timeout leaves no image and no snapshot behind.
func TestPostProcessInterruptedCopyLeavesNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(sim *ec2sim.Server, raw map[string]interface{}, cancel context.CancelFunc)
		want  string
	}{
		{"context cancelled mid-wait", func(sim *ec2sim.Server, raw map[string]interface{}, cancel context.CancelFunc) {
			go func() {
				// Cancel once both copies exist and are pending, as Ctrl-C would.
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
					pending := 0
					for _, region := range copyRegions {
						for _, im := range sim.Images(region) {
							if im.State == "pending" {
								pending++
							}
						}
					}
					if pending == 2 {
						break
					}
				}
				cancel()
			}()
		}, "context canceled"},
		{"DescribeImages fails while waiting", func(sim *ec2sim.Server, raw map[string]interface{}, _ context.CancelFunc) {
			// Call 1 describes the built image; calls 2 and 3 are the first polls of the copies.
			sim.FailNth("DescribeImages", 3, "UnauthorizedOperation", "You are not authorized to perform this operation.")
		}, "UnauthorizedOperation"},
		{"copy_timeout reached", func(sim *ec2sim.Server, raw map[string]interface{}, _ context.CancelFunc) {
			raw["copy_timeout"] = "2s"
		}, "copy_timeout 2s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, ec2sim.Delays{CopyPending: 6 * time.Second, SnapshotPending: 6 * time.Second})
			f := seedFleet(t, sim)
			raw := fullConfig(t, f.keys)
			delete(raw, "prune")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tc.setup(sim, raw, cancel)
			p := configure(t, raw)
			ui, out := testUI()
			before := countResources(sim)

			_, _, _, err := p.PostProcess(ctx, ui, amazonEBSArtifact(f.built, f.base))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("PostProcess: %v, want an error with %q\n%s", err, tc.want, out)
			}
			if left := leftovers(sim, before); len(left) > 0 {
				t.Errorf("left behind: %v\n%s", left, out)
			}
			if !strings.Contains(out.String(), "Removing the partial") {
				t.Errorf("no cleanup reported:\n%s", out)
			}
			for _, region := range copyRegions {
				if v, ok := sim.Parameter(region, "/golden/ubuntu/latest"); ok {
					t.Errorf("a failed copy still published %s in %s", v, region)
				}
			}
		})
	}
}

// TestPostProcessRefusesToShareDefaultKeyImage: an image that is, or whose copy would be, encrypted
// with the AWS-managed key aws/ebs is not shared, and nothing at all is changed: EC2 reports the key
// by ARN, so the refusal rests on what KMS says about it, not on its name.
func TestPostProcessRefusesToShareDefaultKeyImage(t *testing.T) {
	cases := []struct {
		name string
		// setup seeds the built image's snapshots and adjusts the configuration; it returns what
		// the error must name.
		setup func(sim *ec2sim.Server, keys cmks, raw map[string]interface{}) ([]ec2sim.SnapshotSeed, []string)
	}{
		{"snapshot under aws/ebs named by key id", func(sim *ec2sim.Server, keys cmks, _ map[string]interface{}) ([]ec2sim.SnapshotSeed, []string) {
			id, arn := sim.EBSManagedKey(buildRegion)
			return []ec2sim.SnapshotSeed{{Encrypted: true, KmsKeyID: keys.source}, {Encrypted: true, KmsKeyID: id}},
				[]string{"share_with, share_with_org_arns", "AWS-managed key", "snapshot", arn}
		}},
		{"snapshot encrypted by default", func(sim *ec2sim.Server, _ cmks, raw map[string]interface{}) ([]ec2sim.SnapshotSeed, []string) {
			delete(raw, "share_with")
			_, arn := sim.EBSManagedKey(buildRegion)
			return []ec2sim.SnapshotSeed{{Encrypted: true}}, []string{"share_with_org_arns, share_with_ou_arns:", "AWS-managed key", arn}
		}},
		{"copy key is aws/ebs by key ARN", func(sim *ec2sim.Server, keys cmks, raw map[string]interface{}) ([]ec2sim.SnapshotSeed, []string) {
			_, arn := sim.EBSManagedKey("us-west-2")
			raw["kms_key_ids"].(map[string]string)["us-west-2"] = arn
			return []ec2sim.SnapshotSeed{{Encrypted: true, KmsKeyID: keys.source}}, []string{"copy", "to us-west-2", "kms_key_ids", "AWS-managed key", arn}
		}},
		{"encrypted image copied without a key", func(_ *ec2sim.Server, keys cmks, raw map[string]interface{}) ([]ec2sim.SnapshotSeed, []string) {
			raw["encrypt_copies"] = false
			delete(raw["kms_key_ids"].(map[string]string), "eu-west-1")
			return []ec2sim.SnapshotSeed{{Encrypted: true, KmsKeyID: keys.source}}, []string{"copy", "to eu-west-1", "default EBS key", "set kms_key_ids for eu-west-1"}
		}},
		{"key KMS does not know", func(_ *ec2sim.Server, _ cmks, _ map[string]interface{}) ([]ec2sim.SnapshotSeed, []string) {
			const gone = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
			return []ec2sim.SnapshotSeed{{Encrypted: true, KmsKeyID: gone}}, []string{"cannot tell", gone, "NotFoundException", "kms:DescribeKey"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, ec2sim.Delays{})
			keys := addKeys(sim)
			raw := fullConfig(t, keys)
			delete(raw, "prune")
			snaps, want := tc.setup(sim, keys, raw)
			built := sim.AddImage(buildRegion, ec2sim.ImageSeed{Name: "golden-default-key", Snapshots: snaps})
			img, _ := sim.Image(buildRegion, built)
			want = append(want, buildRegion+":"+built)
			if strings.Contains(tc.name, "snapshot") {
				want = append(want, img.BlockDevices[len(img.BlockDevices)-1].SnapshotID)
			}
			p := configure(t, raw)
			ui, out := testUI()
			sim.ResetCalls()

			_, _, _, err := p.PostProcess(context.Background(), ui, amazonEBSArtifact(built, ""))
			if err == nil {
				t.Fatalf("PostProcess shared it:\n%s", out)
			}
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the refusal does not name %q: %v", w, err)
				}
			}
			for _, action := range mutatingActions {
				if n := sim.Calls(action); n != 0 {
					t.Errorf("refused run still called %s %d times", action, n)
				}
			}
			if img, _ := sim.Image(buildRegion, built); len(img.LaunchPermissions) != 0 || len(img.Tags) != 0 {
				t.Errorf("refused image changed: permissions %v, tags %v", img.LaunchPermissions, img.Tags)
			}
		})
	}
}

// TestPostProcessSharesCustomerKeyImage: an image under a customer managed key is shared with
// accounts and the organisation, its snapshots with the accounts, after one DescribeKey for its
// two snapshots' one key; without copies, no copy key is asked about.
func TestPostProcessSharesCustomerKeyImage(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	keys := addKeys(sim)
	keyID, _ := sim.AddKMSKey(buildRegion, "golden-shared")
	built := sim.AddImage(buildRegion, ec2sim.ImageSeed{Name: "golden-cmk", Snapshots: []ec2sim.SnapshotSeed{
		{Encrypted: true, KmsKeyID: keyID}, {Encrypted: true, SizeGiB: 20, KmsKeyID: "alias/golden-shared"},
	}})
	raw := fullConfig(t, keys)
	for _, option := range []string{"prune", "copy_to", "kms_key_ids", "encrypt_copies"} {
		delete(raw, option)
	}
	p := configure(t, raw)
	sim.ResetCalls()
	mustPostProcess(t, p, amazonEBSArtifact(built, ""))
	if n := sim.Calls("DescribeKey"); n != 1 {
		t.Errorf("%d DescribeKey calls, want 1", n)
	}
	img, _ := sim.Image(buildRegion, built)
	if !slices.Contains(img.LaunchPermissions, ec2sim.LaunchPermission{UserID: shareAcct}) ||
		!slices.Contains(img.LaunchPermissions, ec2sim.LaunchPermission{OrganizationArn: orgARN}) {
		t.Errorf("launch permissions %+v", img.LaunchPermissions)
	}
	for _, bd := range img.BlockDevices {
		snap, _ := sim.Snapshot(buildRegion, bd.SnapshotID)
		if !slices.Contains(snap.CreateVolumePermissions, ec2sim.CreateVolumePermission{UserID: shareAcct}) {
			t.Errorf("snapshot %s (key %s) volume permissions %+v", snap.ID, snap.KmsKeyID, snap.CreateVolumePermissions)
		}
	}
}

func TestPostProcessRejectsOtherArtifacts(t *testing.T) {
	p := configure(t, map[string]interface{}{"region": buildRegion})
	ui, _ := testUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, &testArtifact{builderID: "packer.docker", id: "sha256:abc"})
	if err == nil || !strings.Contains(err.Error(), "packer.docker") || !strings.Contains(err.Error(), "not an AMI artifact") {
		t.Fatalf("PostProcess on a Docker artifact: %v", err)
	}
}

// TestArtifactDestroy: destroying the output deregisters every image it lists and deletes their
// snapshots, as the EC2 builders' artifacts do.
func TestArtifactDestroy(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	built := sim.AddImage(buildRegion, ec2sim.ImageSeed{Name: "golden-destroy"})
	p := configure(t, map[string]interface{}{"region": buildRegion, "copy_to": []string{"us-west-2"}, "poll_interval": "1s"})
	art, _ := mustPostProcess(t, p, amazonEBSArtifact(built, ""))
	a := art.(*Artifact)
	if err := a.Destroy(); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	for _, img := range a.Images {
		if _, ok := sim.Image(img.Region, img.ImageID); ok {
			t.Errorf("%s:%s still exists", img.Region, img.ImageID)
		}
		for _, s := range img.Snapshots {
			if _, ok := sim.Snapshot(img.Region, s); ok {
				t.Errorf("snapshot %s of %s still exists", s, img.ImageID)
			}
		}
	}
}

// TestPostProcessCopiesInParallel: two copies of 2 seconds each take about 2 seconds, not 4, and
// they are tagged when created: no CreateTags call is made in their regions.
func TestPostProcessCopiesInParallel(t *testing.T) {
	const copyTime = 2 * time.Second
	var (
		mu       sync.Mutex
		requests []string
	)
	sim := startSimLogging(t, ec2sim.Delays{CopyPending: copyTime}, func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		requests = append(requests, fmt.Sprintf(format, args...))
	})
	built := sim.AddImage(buildRegion, ec2sim.ImageSeed{Name: "golden-parallel"})
	p := configure(t, map[string]interface{}{
		"region": buildRegion, "copy_to": slices.Clone(copyRegions), "poll_interval": "1s",
		"tags": map[string]string{"Team": "platform"}, "snapshot_tags": map[string]string{"Backup": "none"},
	})
	started := time.Now()
	art, _ := mustPostProcess(t, p, amazonEBSArtifact(built, ""))
	took := time.Since(started)
	if n := len(art.State("amis").(map[string]string)); n != 3 {
		t.Fatalf("%d images, want 3", n)
	}
	// One poll interval of slack on top of one copy; sequential copies take twice copyTime.
	if took >= 2*copyTime {
		t.Errorf("two %s copies took %s: not in parallel", copyTime, took)
	}
	for region, id := range art.State("amis").(map[string]string) {
		img, _ := sim.Image(region, id)
		snap, _ := sim.Snapshot(region, img.BlockDevices[0].SnapshotID)
		if img.Tags["Team"] != "platform" || snap.Tags["Team"] != "platform" || snap.Tags["Backup"] != "none" {
			t.Errorf("%s:%s tags %v, snapshot tags %v", region, id, img.Tags, snap.Tags)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, region := range copyRegions {
		if slices.Contains(requests, "awssim: "+region+" ec2 CreateTags") {
			t.Errorf("the copy in %s was tagged after its creation:\n%s", region, strings.Join(requests, "\n"))
		}
		if !slices.Contains(requests, "awssim: "+region+" ec2 CopyImage") {
			t.Errorf("no CopyImage in %s in the request log:\n%s", region, strings.Join(requests, "\n"))
		}
	}
}

// TestPostProcessMultiRegionArtifact: an amazon-ebs artifact that already holds a copy (ami_regions)
// gets that copy tagged and published too, and copy_to skips its region.
func TestPostProcessMultiRegionArtifact(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	built := sim.AddImage(buildRegion, ec2sim.ImageSeed{Name: "golden-multi"})
	west := sim.AddImage("us-west-2", ec2sim.ImageSeed{Name: "golden-multi"})
	art := amazonEBSArtifact(built, "")
	art.id = "us-west-2:" + west + "," + buildRegion + ":" + built
	p := configure(t, map[string]interface{}{
		"region": buildRegion, "copy_to": slices.Clone(copyRegions), "poll_interval": "1s",
		"tags": map[string]string{"Team": "platform"}, "ssm_parameter": "/golden/multi",
	})
	sim.ResetCalls()
	res, out := mustPostProcess(t, p, art)
	// One CopyImage asks for permission (DryRun), one copies.
	if n := sim.Calls("CopyImage"); n != 2 {
		t.Errorf("%d CopyImage calls, want 2: the permission check and the copy to eu-west-1 only", n)
	}
	amis := res.State("amis").(map[string]string)
	if amis[buildRegion] != built || amis["us-west-2"] != west || amis["eu-west-1"] == "" {
		t.Errorf("amis %v", amis)
	}
	for region, id := range amis {
		img, _ := sim.Image(region, id)
		if img.Tags["Team"] != "platform" {
			t.Errorf("%s:%s not tagged: %v", region, id, img.Tags)
		}
		if v, _ := sim.Parameter(region, "/golden/multi"); v != id {
			t.Errorf("SSM parameter in %s = %q, want %s", region, v, id)
		}
	}
	if !strings.Contains(out.String(), "already in us-west-2") {
		t.Errorf("the skipped copy is not reported:\n%s", out)
	}
}
