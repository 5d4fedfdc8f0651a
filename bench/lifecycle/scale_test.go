package lifecycle

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// scaleFleets are the prune fleets: 100, 1,000 and 5,000 AMIs built over two years, with
// 200 launch templates of 5 versions, 500 instances and 50 Auto Scaling groups.
var scaleFleets = []fleetSize{
	{images: 100, templates: 200, versions: 5, instances: 500, groups: 50, span: 2 * 365 * 24 * time.Hour},
	{images: 1000, templates: 200, versions: 5, instances: 500, groups: 50, span: 2 * 365 * 24 * time.Hour},
	{images: 5000, templates: 200, versions: 5, instances: 500, groups: 50, span: 2 * 365 * 24 * time.Hour},
}

// seedMaxCalls is the most calls the seed's algorithm is run for on the simulator; beyond, its
// calls are computed from the fleet and its time estimated from the per-call time of the largest
// fleet it ran on. GOLDEN_BENCH_SEED_MAX_CALLS overrides it.
func seedMaxCalls() int {
	if n, err := strconv.Atoi(os.Getenv("GOLDEN_BENCH_SEED_MAX_CALLS")); err == nil && n >= 0 {
		return n
	}
	if benchrec.Quick() {
		return 25_000
	}
	return 250_000
}

const scaleGroup = "prune scale (point 3)"

func TestBenchmarkPruneScale(t *testing.T) {
	benchrec.Require(t)
	const region = "us-east-1"
	suite.Assume("prune scale: the in-process simulator over HTTP on the loopback, no added latency; calls are the simulator's counters "+
		"less the SDK's retry attempts; the seed's algorithm is the Go rendering in bench/lifecycle/seed_test.go, run when it makes at most "+
		"%d calls, computed from the fleet beyond (its time then estimated from its measured per-call time)", seedMaxCalls())
	var perSeedCall time.Duration
	goldenCalls, deletions := map[int]float64{}, map[int]float64{}
	fleets := scaleFleets
	if benchrec.Quick() {
		// The two fleets the goals need: the ratio at 1,000 AMIs, and a growth to compare.
		fleets = scaleFleets[:2]
		suite.Assume("prune scale: bench-quick inventories the fleets of 100 and 1,000 AMIs only (make bench: 5,000 too)")
	}
	for _, size := range fleets {
		sim := ec2sim.StartTest(t, ec2sim.Options{Logf: func(string, ...any) {}})
		f := newFleet(size, 3)
		f.seed(sim, region)
		src := simSources(t, sim, region)
		pinned := map[string]string{f.newest: "built by this run"}
		label := fmt.Sprintf("%d AMIs", size.images)

		calls := suite.Row(scaleGroup, "golden-lifecycle inventory+plan, "+label+": AWS calls", "calls")
		wall := suite.Row(scaleGroup, "golden-lifecycle inventory+plan, "+label+": wall", "s")
		for range benchrec.Runs() {
			sim.ResetCalls()
			started := time.Now()
			inv, err := lifecycle.Collect(context.Background(), src, benchPolicy, pinned)
			if err != nil {
				t.Fatalf("%s: %v", size, err)
			}
			plan := lifecycle.Plan(inv, benchPolicy, f.now)
			wall.AddDuration(time.Since(started))
			calls.Add(float64(clientCalls(sim)))
			want := lifecycle.Plan(f.inventory(), benchPolicy, f.now)
			if got, want := plan.ImagesToDelete(), want.ImagesToDelete(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: the plan from the collected inventory deletes %d images, the fleet's plan %d", size, len(got), len(want))
			}
		}
		calls.How = "counted"
		goldenCalls[size.images] = calls.Median
		deleted := len(lifecycle.Plan(f.inventory(), benchPolicy, f.now).ImagesToDelete())
		deletions[size.images] = float64(deleted)
		// One launch-permission read per image the plan would delete, one reference check per
		// ten, and pages of the listings: at most a little over one call per AMI.
		perAMI := suite.Row(scaleGroup, "golden-lifecycle inventory+plan, "+label+": AWS calls per AMI", "calls/AMI")
		perAMI.Add(calls.Median / float64(size.images))
		perAMI.Note = fmt.Sprintf("%d of the AMIs deleted", deleted)
		perAMI.Target("<= 1.2 (linear)", 1.2, true)

		predicted, candidates := seedPruneCalls(f, benchPolicy.KeepLatest, benchPolicy.OlderThan)
		seedCalls := suite.Row(scaleGroup, "seed script, "+label+": AWS calls", "calls")
		seedWall := suite.Row(scaleGroup, "seed script, "+label+": wall", "s")
		if predicted <= seedMaxCalls() {
			client := src.EC2.(*ec2.Client)
			sim.ResetCalls()
			started := time.Now()
			if _, err := seedPrune(context.Background(), client, pipeline+"-*", benchPolicy.KeepLatest, benchPolicy.OlderThan, f.now); err != nil {
				t.Fatalf("%s: the seed's algorithm: %v", size, err)
			}
			took := time.Since(started)
			counted := clientCalls(sim)
			if counted != predicted {
				t.Errorf("%s: the seed's algorithm made %d calls, the fleet predicts %d", size, counted, predicted)
			}
			seedCalls.Add(float64(counted))
			seedCalls.How = "counted, 1 run"
			seedWall.AddDuration(took)
			seedWall.How = "measured, 1 run"
			perSeedCall = took / time.Duration(counted)
		} else {
			seedCalls.Add(float64(predicted))
			seedCalls.How = "computed: 1 + candidates x (2 + templates)"
			if perSeedCall > 0 {
				seedWall.AddDuration(perSeedCall * time.Duration(predicted))
				seedWall.How = fmt.Sprintf("estimated: calls x %.2f ms, its per-call time on the largest fleet it ran", float64(perSeedCall)/1e6)
			}
		}
		seedCalls.Note = fmt.Sprintf("%d candidates", candidates)
		ratio := suite.Row(scaleGroup, "seed / golden-lifecycle calls, "+label, "x")
		ratio.Add(seedCalls.Median / calls.Median)
		if size.images == 1000 {
			ratio.Target(">= 100x", 100, false)
		}
	}
	// The calls follow the images the plan deletes (a launch-permission read each, a reference
	// check per ten), whose share of the fleet rises with its age: they grow no faster than those.
	small, large := fleets[len(fleets)-2].images, fleets[len(fleets)-1].images
	growth := suite.Row(scaleGroup, fmt.Sprintf("golden-lifecycle calls growth, %s -> %s AMIs (x%d)", thousands(small), thousands(large), large/small), "x")
	growth.Add(goldenCalls[large] / goldenCalls[small])
	deletedGrowth := deletions[large] / deletions[small]
	growth.Target(fmt.Sprintf("<= %.2fx (the deletions' growth)", deletedGrowth), deletedGrowth, true)
}

// thousands writes n with a comma between thousands, as the issue writes fleet sizes.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// clientCalls is how many calls the client code made since the last reset: the simulator's
// counters less the SDK's retry attempts (a loaded machine makes a few connections fail).
func clientCalls(sim *ec2sim.Server) int {
	n := 0
	for action, c := range sim.CallCounts() {
		n += c - sim.Retries(action)
	}
	return n
}
