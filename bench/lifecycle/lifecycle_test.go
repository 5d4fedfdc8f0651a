// Package lifecycle benchmarks golden-lifecycle against the in-process AWS simulator: the pure
// planner (lifecycle.Plan) on synthetic fleets of 1k, 10k and 50k AMIs; the inventory
// (lifecycle.Collect) plus the plan on the fleets of 100, 1,000 and 5,000 AMIs beside the
// seed's lifecycle script (AWS calls and wall time); and copies to 1 and 5 regions beside the
// seed's sequential loop. Run it with `scripts/bench.sh lifecycle` (or GOLDEN_BENCH=1 go test
// -count=1 -v -run Benchmark ./bench/lifecycle).
package lifecycle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// planFleets are the fleets the planner is measured on: a small account, a large one, and one far
// beyond what a single pipeline accumulates.
var planFleets = []fleetSize{
	{images: 1000, templates: 200, instances: 200},
	{images: 10000, templates: 1000, instances: 1000},
	{images: 50000, templates: 1000, instances: 1000},
}

// The planner's targets on 10k AMIs.
const (
	planTargetImages = 10000
	planTargetTime   = 100 * time.Millisecond
	planTargetHeap   = 64 << 20
)

// suite collects every row of this package; TestMain writes it once the tests are done.
var suite = benchrec.NewSuite("lifecycle")

func TestMain(m *testing.M) { os.Exit(benchrec.Main(suite, m.Run)) }

// BenchmarkPlan is the planner in Go's benchmark format (ns/op, B/op, allocs/op, AMIs/s), for
// comparing runs with benchstat; TestBenchmarkPlanner prints the same figures as a table.
func BenchmarkPlan(b *testing.B) {
	benchrec.Require(b)
	for _, size := range planFleets {
		f := newFleet(size, 1)
		b.Run(fmt.Sprintf("amis=%d", size.images), benchmarkPlan(f.inventory(), f.now))
	}
}

func benchmarkPlan(inv lifecycle.Inventory, now time.Time) func(*testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			lifecycle.Plan(inv, benchPolicy, now)
		}
		b.ReportMetric(float64(len(inv.Images))*float64(b.N)/b.Elapsed().Seconds(), "AMIs/s")
	}
}

// peakHeap runs f once, with the garbage collector working as usual, and returns the largest
// growth of the heap seen meanwhile: runtime.ReadMemStats sampled every millisecond and once more
// when f returns.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	done, top := make(chan struct{}), make(chan uint64)
	go func() {
		var ms runtime.MemStats
		var peak uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-done:
				top <- peak
				return
			case <-tick.C:
			}
		}
	}()
	f()
	runtime.ReadMemStats(&ms)
	close(done)
	return max(<-top, ms.HeapAlloc) - base
}

const planGroup = "prune planner (lifecycle.Plan, in memory)"

func TestBenchmarkPlanner(t *testing.T) {
	benchrec.Require(t)
	suite.Assume("planner: policy %s; a fleet's figures are testing.Benchmark's mean per call, one value per run", benchPolicy)
	fleets := planFleets
	if benchrec.Quick() {
		fleets = slices.DeleteFunc(slices.Clone(planFleets), func(f fleetSize) bool { return f.images != planTargetImages })
		suite.Assume("planner: bench-quick plans the fleet of its goals only (%d AMIs)", planTargetImages)
	}
	for _, size := range fleets {
		f := newFleet(size, 1)
		inv := f.inventory()
		label := fmt.Sprintf("%d AMIs", size.images)
		perOp := suite.Row(planGroup, "plan, "+label+": time per plan", "ms")
		peakRow := suite.Row(planGroup, "plan, "+label+": peak heap", "MiB")
		for range benchrec.Runs() {
			res := testing.Benchmark(benchmarkPlan(inv, f.now))
			var plan lifecycle.PrunePlan
			peak := peakHeap(func() { plan = lifecycle.Plan(inv, benchPolicy, f.now) })
			checkPlan(t, f, plan)
			perOp.AddDuration(time.Duration(res.NsPerOp()))
			peakRow.Add(float64(peak) / (1 << 20))
			deleted := len(plan.ImagesToDelete())
			perOp.Note = fmt.Sprintf("%d allocs/op, keeps %d, deletes %d", res.AllocsPerOp(), len(plan.Images)-deleted, deleted)
		}
		if size.images == planTargetImages {
			perOp.Target(fmt.Sprintf("< %v", planTargetTime), float64(planTargetTime)/1e6, true)
			peakRow.Target(fmt.Sprintf("< %d MiB", planTargetHeap>>20), planTargetHeap>>20, true)
		}
	}
}

// checkPlan makes sure the benchmark measures a real plan: it deletes something, and nothing it
// deletes is referred to, pinned or newer than the policy keeps.
func checkPlan(t *testing.T, f fleet, plan lifecycle.PrunePlan) {
	t.Helper()
	used := map[string]bool{f.newest: true}
	for _, u := range f.inventory().Uses {
		used[u.ImageID] = true
	}
	deleted := plan.ImagesToDelete()
	if len(deleted) == 0 {
		t.Errorf("%s: the plan deletes nothing", f.size)
	}
	for _, id := range deleted {
		if used[id] {
			t.Errorf("%s: the plan deletes %s, which is in use or pinned", f.size, id)
		}
	}
	for _, d := range plan.Images {
		if d.Action == lifecycle.Delete && (d.Rank <= benchPolicy.KeepLatest && d.Rank > 0 || f.now.Sub(d.CreationDate) < benchPolicy.OlderThan) {
			t.Errorf("%s: the plan deletes %s (rank %d, created %s), which the policy keeps", f.size, d.ImageID, d.Rank, d.CreationDate)
		}
	}
}

// simSources points the real AWS clients of this process at the simulator.
func simSources(t *testing.T, sim *ec2sim.Server, region string) lifecycle.Sources {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", sim.URL())
	// A developer's own AWS configuration must not reach the simulator (profiles, SSO).
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "absent"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "absent"))
	access := &awsconf.AccessConfig{Region: region, AccessKey: "AKIDSIMULATOR", SecretKey: "simulator", MaxRetries: 10}
	if errs := access.Prepare(); len(errs) > 0 {
		t.Fatal(errs)
	}
	cfg, err := access.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return lifecycle.Sources{Region: region, AccountID: sim.AccountID(), EC2: ec2.NewFromConfig(cfg),
		SSM: ssm.NewFromConfig(cfg), AutoScaling: autoscaling.NewFromConfig(cfg)}
}
