package lifecycle

import (
	"fmt"
	"math/rand"
	"strings"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// The pipeline the benchmark prunes, and the account that owns every image of the fleet.
const (
	pipeline = "golden-bench"
	account  = ec2sim.DefaultAccountID
)

// benchPolicy is a typical retention: the 5 newest, a month of history, a keep tag.
var benchPolicy = lifecycle.PrunePolicy{
	MatchTags:       map[string]string{"Pipeline": pipeline},
	KeepLatest:      5,
	OlderThan:       30 * 24 * time.Hour,
	KeepTag:         "golden:keep",
	DeleteSnapshots: true,
}

// fleetSize counts what one region holds. Zero versions, groups and span keep the planner's
// original mix: one or three versions per template, five Auto Scaling groups, an image an hour.
type fleetSize struct {
	images, templates, instances int
	// versions per launch template; groups of Auto Scaling; span the images were built over (an
	// image every span/images).
	versions, groups int
	span             time.Duration
}

func (s fleetSize) String() string {
	out := fmt.Sprintf("%d AMIs, %d LTs, %d inst", s.images, s.templates, s.instances)
	if s.versions > 0 {
		out = fmt.Sprintf("%d AMIs, %dx%d LT versions, %d inst, %d ASGs", s.images, s.templates, s.versions, s.instances, s.groups)
	}
	return out
}

// fleet is one synthetic region: the pipeline's images built hourly (and every tenth one of
// another pipeline), launch templates whose versions point at images (one version in ten through
// resolve:ssm:), instances launched from images (a tenth of them terminated), a few Auto Scaling
// groups launching templates at $Latest, and the SSM parameter the pipeline publishes its newest
// image to.
//
// The same fleet is rendered two ways: as the Inventory that Collect would read (for the pure
// planner), and seeded into the simulator (for Collect itself). Ids are given in the real AWS
// formats so that both renderings name the same resources.
type fleet struct {
	size       fleetSize
	now        time.Time
	images     []lifecycle.Image
	templates  []launchTemplate
	instances  []instance
	groups     []autoScalingGroup
	parameters []parameter
	newest     string // the image the run has just built: pinned
}

type launchTemplate struct {
	id, name       string
	versions       []string // image id or resolve:ssm:<name>, versions 1..N
	defaultVersion int
}

type instance struct{ id, imageID, state string }

type autoScalingGroup struct{ name, templateID string }

type parameter struct{ name, imageID, dataType string }

// newFleet builds a fleet; the same size and seed always give the same fleet.
func newFleet(size fleetSize, seed int64) fleet {
	rng := rand.New(rand.NewSource(seed))
	f := fleet{size: size, now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	n := size.images
	every := time.Hour
	if size.span > 0 {
		every = size.span / time.Duration(n)
	}
	for i := range n {
		img := lifecycle.Image{
			ID:           fmt.Sprintf("ami-%017x", i+1),
			Name:         fmt.Sprintf("%s-%06d", pipeline, i),
			OwnerID:      account,
			State:        "available",
			CreationDate: f.now.Add(-time.Duration(n-i) * every),
			Tags:         map[string]string{"Pipeline": pipeline},
			// A root snapshot of its own; every fifth image has a data volume whose snapshot it
			// shares with the image five builds later (both built from one volume).
			Snapshots: []lifecycle.Snapshot{{ID: fmt.Sprintf("snap-%017x", i+1), SizeGiB: 8}},
		}
		if i%5 == 0 {
			img.Snapshots = append(img.Snapshots, lifecycle.Snapshot{ID: fmt.Sprintf("snap-%017x", 1<<40+i/10), SizeGiB: 20})
		}
		switch {
		case i%10 == 9:
			img.Name = fmt.Sprintf("other-%06d", i)
			img.Tags["Pipeline"] = "other"
		case i%25 == 0:
			img.State = "disabled"
		case i%53 == 0:
			img.Tags["golden:keep"] = "release"
		case i%97 == 0:
			img.DeregistrationProtected = true
		}
		f.images = append(f.images, img)
	}
	f.newest = f.images[n-1].ID
	if f.images[n-1].Tags["Pipeline"] != pipeline {
		f.newest = f.images[n-2].ID
	}

	// Most references are to recent images (templates and instances follow new releases); a
	// quarter point anywhere in the history (a template pinned years ago, a pet instance).
	pick := func() string {
		if rng.Intn(4) == 0 {
			return f.images[rng.Intn(n)].ID
		}
		return f.images[n-1-rng.Intn(max(1, n/20))].ID
	}
	for j := range size.templates {
		lt := launchTemplate{id: fmt.Sprintf("lt-%017x", j+1), name: fmt.Sprintf("bench-%d", j), defaultVersion: 1}
		count := 1
		switch {
		case size.versions > 0:
			count, lt.defaultVersion = size.versions, size.versions
		case j%4 == 0:
			count, lt.defaultVersion = 3, 2
		}
		for v := range count {
			image := pick()
			if (j+v)%10 == 0 {
				name := fmt.Sprintf("/%s/lt-%d-v%d", pipeline, j, v+1)
				f.parameters = append(f.parameters, parameter{name: name, imageID: image, dataType: "text"})
				image = "resolve:ssm:" + name
			}
			lt.versions = append(lt.versions, image)
		}
		f.templates = append(f.templates, lt)
	}
	states := []string{"running", "running", "running", "stopped", "pending", "stopping", "running", "stopped", "running", "terminated"}
	for k := range size.instances {
		f.instances = append(f.instances, instance{id: fmt.Sprintf("i-%017x", k+1), imageID: pick(), state: states[k%len(states)]})
	}
	groups := size.groups
	if groups == 0 {
		groups = 5
	}
	for g := range min(groups, len(f.templates)) {
		f.groups = append(f.groups, autoScalingGroup{name: fmt.Sprintf("bench-asg-%d", g), templateID: f.templates[g].id})
	}
	f.parameters = append(f.parameters, parameter{name: "/" + pipeline + "/latest", imageID: f.newest, dataType: lifecycle.ImageDataType})
	return f
}

// inventory renders the fleet as Collect reads it: every image the account owns, and a use for
// every reference to an image.
func (f fleet) inventory() lifecycle.Inventory {
	inv := lifecycle.Inventory{
		Region: "us-east-1", AccountID: account, Images: f.images,
		Pinned: map[string]string{f.newest: "built by this run"},
	}
	values := map[string]string{}
	for _, p := range f.parameters {
		values[p.name] = p.imageID
		if p.dataType == lifecycle.ImageDataType {
			inv.Uses = append(inv.Uses, lifecycle.Use{ImageID: p.imageID, Kind: lifecycle.UseSSMParameter, Resource: p.name})
		}
	}
	imageOf := func(version string) string {
		if name, ok := strings.CutPrefix(version, "resolve:ssm:"); ok {
			return values[name]
		}
		return version
	}
	for _, in := range f.instances {
		if in.state != "terminated" {
			inv.Uses = append(inv.Uses, lifecycle.Use{ImageID: in.imageID, Kind: lifecycle.UseInstance, Resource: in.id, Detail: in.state})
		}
	}
	byID := map[string]launchTemplate{}
	for _, lt := range f.templates {
		byID[lt.id] = lt
		for v, version := range lt.versions {
			inv.Uses = append(inv.Uses, lifecycle.Use{ImageID: imageOf(version), Kind: lifecycle.UseLaunchTemplate,
				Resource: lt.id + " " + lt.name, Detail: fmt.Sprintf("version %d", v+1)})
		}
	}
	for _, g := range f.groups {
		lt := byID[g.templateID]
		inv.Uses = append(inv.Uses, lifecycle.Use{ImageID: imageOf(lt.versions[len(lt.versions)-1]), Kind: lifecycle.UseAutoScalingGroup,
			Resource: g.name, Detail: "launch template " + lt.id + " $Latest"})
	}
	return inv
}

// seed creates the fleet in one region of the simulator.
func (f fleet) seed(sim *ec2sim.Server, region string) {
	for _, img := range f.images {
		var snaps []ec2sim.SnapshotSeed
		for _, s := range img.Snapshots {
			snaps = append(snaps, ec2sim.SnapshotSeed{ID: s.ID, SizeGiB: int32(s.SizeGiB)})
		}
		sim.AddImage(region, ec2sim.ImageSeed{
			ID: img.ID, Name: img.Name, State: img.State, CreationDate: img.CreationDate, Tags: img.Tags,
			DeregistrationProtection: img.DeregistrationProtected, Snapshots: snaps,
		})
	}
	for _, p := range f.parameters {
		sim.PutParameter(region, p.name, p.imageID, p.dataType)
	}
	for _, lt := range f.templates {
		sim.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{ID: lt.id, Name: lt.name, Versions: lt.versions, DefaultVersion: lt.defaultVersion})
	}
	for _, in := range f.instances {
		sim.AddInstance(region, ec2sim.InstanceSeed{ID: in.id, ImageID: in.imageID, State: in.state})
	}
	for _, g := range f.groups {
		sim.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: g.name, LaunchTemplateID: g.templateID, LaunchTemplateVersion: "$Latest"})
	}
}
