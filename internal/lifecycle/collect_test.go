package lifecycle

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// startSim starts the simulator quietly and points the AWS SDK of this process at it.
func startSim(t *testing.T) *ec2sim.Server {
	t.Helper()
	return startSimWith(t, ec2sim.Delays{})
}

// startSimWith is startSim with state transitions that take their time.
func startSimWith(t *testing.T, delays ec2sim.Delays) *ec2sim.Server {
	t.Helper()
	return startSimOptions(t, ec2sim.Options{Delays: delays})
}

// startSimOptions is startSim with the given options, quiet.
func startSimOptions(t *testing.T, opts ec2sim.Options) *ec2sim.Server {
	t.Helper()
	opts.Logf = func(string, ...any) {}
	sim := ec2sim.StartTest(t, opts)
	t.Setenv("AWS_ENDPOINT_URL", sim.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSIMULATOR")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "simulator")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return sim
}

func simSources(t *testing.T, sim *ec2sim.Server, region string) Sources {
	t.Helper()
	access := &awsconf.AccessConfig{Region: region, MaxRetries: 10}
	if errs := access.Prepare(); len(errs) > 0 {
		t.Fatal(errs)
	}
	ctx := context.Background()
	ec2c, err := access.EC2Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ssmc, _ := access.SSMClient(ctx)
	asc, _ := access.AutoScalingClient(ctx)
	return Sources{Region: region, AccountID: sim.AccountID(), EC2: ec2c, SSM: ssmc, AutoScaling: asc}
}

// seedFleet creates images AMIs of the pipeline, templates launch templates pointing at random
// images (one version in ten through resolve:ssm:; one template in four has 3 versions with the
// second as default, the others one version), instances running from random images and a few Auto
// Scaling groups, launch configurations and parameters. It returns the ids of the images something
// refers to, and how many template versions resolve an SSM parameter.
func seedFleet(sim *ec2sim.Server, region string, images, templates, instances int, rng *rand.Rand) (used map[string]bool, resolved int) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, images)
	for i := range ids {
		ids[i] = sim.AddImage(region, ec2sim.ImageSeed{
			Name: fmt.Sprintf("golden-scale-%05d", i), CreationDate: base.Add(time.Duration(i) * time.Hour),
			Tags: map[string]string{"Pipeline": "scale"},
		})
	}
	used = map[string]bool{}
	pick := func() string {
		id := ids[rng.Intn(len(ids))]
		used[id] = true
		return id
	}
	for i := range templates {
		count := 1
		if i%4 == 0 {
			count = 3
		}
		var versions []string
		for v := range count {
			if (i+v)%10 == 0 {
				param := fmt.Sprintf("/scale/lt-%d-v%d", i, v)
				sim.PutParameter(region, param, pick(), "text")
				versions = append(versions, "resolve:ssm:"+param)
				resolved++
				continue
			}
			versions = append(versions, pick())
		}
		sim.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: fmt.Sprintf("scale-%d", i), Versions: versions, DefaultVersion: 2})
	}
	for range instances {
		sim.AddInstance(region, ec2sim.InstanceSeed{ImageID: pick(), State: []string{"running", "stopped", "pending"}[rng.Intn(3)]})
	}
	for i := range 5 {
		lc := fmt.Sprintf("scale-lc-%d", i)
		sim.AddLaunchConfiguration(region, lc, pick())
		sim.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: fmt.Sprintf("scale-asg-%d", i), LaunchConfigurationName: lc})
		sim.PutParameter(region, fmt.Sprintf("/scale/published-%d", i), pick(), "aws:ec2:image")
	}
	return used, resolved
}

// TestCollectCallsGrowWithTheSum seeds 1,000 images and 200 launch templates, then twice that, and
// counts the API calls an inventory takes: they must grow linearly (with images + templates +
// instances), far below the images x templates the seed's script would make.
func TestCollectCallsGrowWithTheSum(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds thousands of resources")
	}
	policy := PrunePolicy{MatchTags: map[string]string{"Pipeline": "scale"}, KeepLatest: 1}
	var resolved int
	measure := func(images, templates, instances int) (map[string]int, Inventory, map[string]bool) {
		sim := startSim(t)
		var used map[string]bool
		used, resolved = seedFleet(sim, "us-east-1", images, templates, instances, rand.New(rand.NewSource(int64(images))))
		src := simSources(t, sim, "us-east-1")
		sim.ResetCalls()
		inv, err := Collect(context.Background(), src, policy, nil)
		if err != nil {
			t.Fatal(err)
		}
		// What the collector asked for: transport-level retries of the SDK (a dropped keep-alive
		// connection is retried) are not calls the collector made.
		calls := sim.CallCounts()
		for action := range calls {
			calls[action] -= sim.Retries(action)
		}
		return calls, inv, used
	}

	small, inv, used := measure(1000, 200, 300)
	total := func(c map[string]int) int {
		n := 0
		for _, v := range c {
			n += v
		}
		return n
	}
	t.Logf("1,000 images, 200 templates, 300 instances: %d calls %v", total(small), small)

	// Exact counts, from the page and batch sizes.
	want := map[string]int{
		"DescribeImages":          1, // 1,000 per page
		"DescribeLaunchTemplates": 1, // 200 per page
		// One stream of the 250 $Default/$Latest versions (200 per page); the groups launch
		// from launch configurations, so no version they pin is read besides.
		"DescribeLaunchTemplateVersions": 2,
		"DescribeAutoScalingGroups":      1,
		"DescribeLaunchConfigurations":   1,
		// The reference check replaces these.
		"DescribeInstances":  0,
		"DescribeParameters": 0,
	}
	for action, n := range want {
		if small[action] != n {
			t.Errorf("%s: %d calls, want %d", action, small[action], n)
		}
	}
	// The reference check is asked about the images nothing else keeps, ten a call; launch
	// permissions are read once for each image the check leaves, and only for those.
	deletable := len(Plan(inv, policy, time.Now()).ImagesToDelete())
	if got, max := small["DescribeImageReferences"], (1000+9)/10; got < (deletable+9)/10 || got > max {
		t.Errorf("DescribeImageReferences: %d calls, want between %d (the deleted images, ten a call) and %d (every image)", got, (deletable+9)/10, max)
	}
	if got := small["DescribeImageAttribute"]; got == 0 || got > small["DescribeImageReferences"]*10 {
		t.Errorf("DescribeImageAttribute: %d calls, want one per image the reference check left (at most %d)", got, small["DescribeImageReferences"]*10)
	}
	// At most the resolve:ssm names (one version in ten), ten per call: those of $Default and
	// $Latest versions are read.
	if got, max := small["GetParameters"], (resolved+9)/10; got == 0 || got > max {
		t.Errorf("GetParameters: %d calls, want 1 to %d", got, max)
	}

	// Correctness at scale: every image something refers to is in use.
	inUse := map[string]bool{}
	for _, u := range inv.Uses {
		inUse[u.ImageID] = true
	}
	for id := range used {
		if !inUse[id] {
			t.Errorf("%s is referred to but the inventory has no use of it", id)
		}
	}
	plan := Plan(inv, policy, time.Now())
	for _, id := range plan.ImagesToDelete() {
		if used[id] {
			t.Errorf("plan deletes %s, which is in use", id)
		}
	}

	large, _, _ := measure(2000, 400, 600)
	t.Logf("2,000 images, 400 templates, 600 instances: %d calls %v", total(large), large)
	// Doubling every count at most doubles the calls (plus a page or two); a product would
	// quadruple them. Launch permissions, one call per image the plan would delete, follow the
	// random fleet's deletions and are bounded above.
	inventory := func(c map[string]int) int { return total(c) - c["DescribeImageAttribute"] }
	if inventory(large) > 2*inventory(small)+4 {
		t.Errorf("calls grew from %d to %d when the fleet doubled: not linear", inventory(small), inventory(large))
	}
	if product := 1000 * 200; total(small)-small["DescribeImageAttribute"] > (1000+200+300)/10 {
		t.Errorf("%d calls for 1,000 images and 200 templates (the per-template-per-image approach makes %d)", total(small), product)
	}
}

// TestCollectFindsEveryKindOfUse seeds one image per kind of use and checks the reason text,
// where EC2 offers DescribeImageReferences and where it does not.
func TestCollectFindsEveryKindOfUse(t *testing.T) {
	t.Run("reference check", func(t *testing.T) { testCollectFindsEveryKindOfUse(t, false) })
	t.Run("without reference check", func(t *testing.T) { testCollectFindsEveryKindOfUse(t, true) })
}

func testCollectFindsEveryKindOfUse(t *testing.T, withheld bool) {
	const region = "eu-west-1"
	opts := ec2sim.Options{
		// Instances stay in their transitional states for the whole test.
		Delays: ec2sim.Delays{InstancePending: time.Hour, InstanceStopping: time.Hour, InstanceShuttingDown: time.Hour},
	}
	if withheld {
		opts.Withheld = map[string][]string{region: {"DescribeImageReferences"}}
	}
	sim := startSimOptions(t, opts)
	mk := func(name string) string {
		return sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-" + name, Tags: map[string]string{"Pipeline": "p"}})
	}
	oldVersion, defaultVersion, viaSSM, asgLT, mixed, lcOnly, asgLC, param, textParam, unused := mk("old-version"), mk("default-version"),
		mk("via-ssm"), mk("asg-lt"), mk("mixed"), mk("lc-only"), mk("asg-lc"), mk("param"), mk("text-param"), mk("unused")
	terminated, unnamedText := mk("terminated"), mk("unnamed-text")

	// An instance in any state but terminated keeps its image.
	byState := map[string]string{}
	for _, state := range []string{"pending", "running", "stopping", "stopped", "shutting-down"} {
		byState[state] = mk("instance-" + state)
		sim.AddInstance(region, ec2sim.InstanceSeed{ImageID: byState[state], State: state})
	}
	sim.AddInstance(region, ec2sim.InstanceSeed{ImageID: terminated, State: "terminated"})
	// Version 1 is older than both $Default (2) and $Latest (3).
	sim.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: "web", Versions: []string{oldVersion, defaultVersion, asgLT}, DefaultVersion: 2})
	sim.PutParameter(region, "/golden/pinned", viaSSM, "text")
	ltSSM := sim.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: "pinned", Versions: []string{"resolve:ssm:/golden/pinned"}})
	sim.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: "web-asg", LaunchTemplateName: "web", LaunchTemplateVersion: "$Latest"})
	mixedLT := sim.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: "batch", Versions: []string{mixed}})
	sim.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: "batch-asg", LaunchTemplateID: mixedLT, MixedInstancesPolicy: true})
	sim.AddLaunchConfiguration(region, "legacy-lc", lcOnly)
	sim.AddLaunchConfiguration(region, "asg-lc", asgLC)
	sim.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: "legacy-asg", LaunchConfigurationName: "asg-lc"})
	sim.PutParameter(region, "/golden/prod", param, "aws:ec2:image")
	// A text parameter counts when the caller names it (the lifecycle's own ssm_parameter), and
	// only then: a documented limit.
	sim.PutParameter(region, "/golden/published", textParam, "text")
	sim.PutParameter(region, "/golden/unnamed", unnamedText, "text")

	policy := PrunePolicy{NamePattern: "golden-*"}
	src := simSources(t, sim, region)
	src.Parameters = []string{"/golden/published"}
	var logged []string
	src.Log = func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	sim.ResetCalls()
	inv, err := Collect(context.Background(), src, policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The reference check replaces the listing of instances, of every template version and of
	// the image parameters; where it is missing, the log says so and they are read.
	fallbackCalls := []string{"DescribeInstances", "DescribeParameters"}
	switch {
	case withheld && (len(logged) != 1 || !strings.Contains(logged[0], "does not offer DescribeImageReferences")):
		t.Errorf("log %q, want one line saying the reference check is missing", logged)
	case !withheld && len(logged) > 0:
		t.Errorf("log %q, want nothing", logged)
	}
	for _, action := range fallbackCalls {
		if got := sim.Calls(action) > 0; got != withheld {
			t.Errorf("%s called: %v, want %v", action, got, withheld)
		}
	}
	uses := map[string][]string{}
	for _, u := range inv.Uses {
		uses[u.ImageID] = append(uses[u.ImageID], u.String())
	}
	// The reference check names the template, not the version, and not the instance's state.
	oldVersionUse, stateOf := []string{"launch template lt-", " web"}, func(string) string { return "" }
	if withheld {
		oldVersionUse, stateOf = []string{"launch template lt-", "web (version 1)"}, func(s string) string { return "(" + s + ")" }
	}
	expect := map[string][]string{
		oldVersion:     oldVersionUse,
		defaultVersion: {"web (version 2 $Default)"},
		viaSSM:         {ltSSM, "via resolve:ssm:/golden/pinned"},
		asgLT:          {"version 3 $Latest", "Auto Scaling group web-asg (launch template lt-", "web $Latest"},
		mixed:          {"Auto Scaling group batch-asg", "batch $Default"},
		lcOnly:         {"launch configuration legacy-lc"},
		asgLC:          {"launch configuration asg-lc", "Auto Scaling group legacy-asg (launch configuration asg-lc)"},
		param:          {"SSM parameter /golden/prod"},
		textParam:      {"SSM parameter /golden/published"},
	}
	for state, id := range byState {
		expect[id] = []string{"instance i-", stateOf(state)}
	}
	for id, fragments := range expect {
		all := strings.Join(uses[id], " | ")
		for _, f := range fragments {
			if !strings.Contains(all, f) {
				t.Errorf("uses of %s = %q, want %q in them", id, all, f)
			}
		}
	}
	for _, id := range []string{unused, terminated, unnamedText} {
		if len(uses[id]) > 0 {
			t.Errorf("%s has uses %v, want none", id, uses[id])
		}
	}
}

// TestCollectFailsClosed: when one inventory source fails, nothing is returned as unused.
func TestCollectFailsClosed(t *testing.T) {
	sim := startSim(t)
	sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-a"})
	src := simSources(t, sim, "us-east-1")
	sim.FailNth("DescribeAutoScalingGroups", 1, "AccessDenied", "not allowed")
	if _, err := Collect(context.Background(), src, PrunePolicy{NamePattern: "golden-*"}, nil); err == nil ||
		!strings.Contains(err.Error(), "Auto Scaling") {
		t.Fatalf("Collect with a failing source: %v, want an error naming Auto Scaling", err)
	}
}

// TestCollectChecksWhatTheRunPushesOut: the reference check is asked only about the images the
// plan may delete, and that set is taken wide enough for what the run changes before it plans:
// a copy it is about to make pushes the oldest kept image out of keep_latest, and its own SSM
// parameter, which it repoints, does not keep the image it names now.
func TestCollectChecksWhatTheRunPushesOut(t *testing.T) {
	sim := startSim(t)
	const region = "us-west-2"
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(i int) string {
		return sim.AddImage(region, ec2sim.ImageSeed{Name: fmt.Sprintf("golden-%d", i), CreationDate: base.Add(time.Duration(i) * time.Hour)})
	}
	ancient, oldest := mk(0), mk(1)
	mk(2)
	mk(3)
	sim.AddInstance(region, ec2sim.InstanceSeed{ImageID: ancient})
	sim.AddInstance(region, ec2sim.InstanceSeed{ImageID: oldest})
	sim.PutParameter(region, "/golden/current", ancient, "text")

	src := simSources(t, sim, region)
	src.Parameters = []string{"/golden/current"}
	src.Planned = []Image{{ID: plannedCopyPrefix + region, Name: "golden-4", OwnerID: sim.AccountID(), State: "available", CreationDate: base.Add(4 * time.Hour)}}
	// Without the copy, keep_latest keeps the oldest image; without the parameter, nothing but
	// the reference check keeps the ancient one.
	policy := PrunePolicy{NamePattern: "golden-*", KeepLatest: 3}
	sim.ResetCalls()
	inv, err := Collect(context.Background(), src, policy, map[string]string{plannedCopyPrefix + region: "copy made by this run"})
	if err != nil {
		t.Fatal(err)
	}
	instances := map[string]bool{}
	for _, u := range inv.Uses {
		if u.Kind == UseInstance {
			instances[u.ImageID] = true
		}
	}
	if !instances[oldest] || !instances[ancient] {
		t.Errorf("instance uses %v, want the oldest image's (pushed out by the planned copy) and the ancient one's (named by the run's own parameter)", instances)
	}
	if got := sim.Calls("DescribeImageReferences"); got != 1 {
		t.Errorf("DescribeImageReferences: %d calls, want 1", got)
	}
	// The plan the run makes without its own parameter keeps both: an instance runs from each.
	plan := Plan(withoutOwnParameter(Job{SSMParameter: "/golden/current"}, inv), policy, time.Now())
	if del := plan.ImagesToDelete(); len(del) != 0 {
		t.Errorf("plan deletes %v, want nothing: an instance runs from each image out of keep_latest", del)
	}
}
