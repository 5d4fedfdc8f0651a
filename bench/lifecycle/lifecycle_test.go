// Package lifecycle benchmarks golden-lifecycle's prune: the pure planner (lifecycle.Plan) on
// synthetic fleets of 1k, 10k and 50k AMIs, and the inventory (lifecycle.Collect) plus the plan
// against the in-process AWS simulator, counting the AWS calls by action. It prints two tables.
// Run it with GOLDEN_BENCH=1 go test -count=1 -v -run Benchmark -bench . -benchmem ./bench/lifecycle
package lifecycle

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

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

// The targets: the planner on 10k AMIs, and the calls of a 1k-AMI inventory.
const (
	planTargetImages = 10000
	planTargetTime   = 100 * time.Millisecond
	planTargetHeap   = 64 << 20
	collectMaxCalls  = 100
)

func requireBench(tb testing.TB) {
	tb.Helper()
	if os.Getenv("GOLDEN_BENCH") != "1" {
		tb.Skip("benchmark: set GOLDEN_BENCH=1 to run it")
	}
}

// BenchmarkPlan is the planner in Go's benchmark format (ns/op, B/op, allocs/op, AMIs/s), for
// comparing runs with benchstat; TestBenchmarkPlanner prints the same figures as a table.
func BenchmarkPlan(b *testing.B) {
	requireBench(b)
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

func TestBenchmarkPlanner(t *testing.T) {
	requireBench(t)
	var b strings.Builder
	fmt.Fprintf(&b, "\nlifecycle.Plan (pure planner), policy: %s\n", benchPolicy)
	fmt.Fprintf(&b, "%-34s %9s %11s %12s %10s %11s %7s %7s  %-22s %s\n",
		"fleet", "ms/op", "allocs/op", "alloc MiB/op", "peak MiB", "AMIs/s", "kept", "deleted", "target", "")
	for _, size := range planFleets {
		f := newFleet(size, 1)
		inv := f.inventory()
		res := testing.Benchmark(benchmarkPlan(inv, f.now))
		var plan lifecycle.PrunePlan
		peak := peakHeap(func() { plan = lifecycle.Plan(inv, benchPolicy, f.now) })
		checkPlan(t, f, plan)

		perOp := time.Duration(res.NsPerOp())
		deleted := len(plan.ImagesToDelete())
		target, verdict := "-", "-"
		if size.images == planTargetImages {
			target = fmt.Sprintf("< %v, < %d MiB", planTargetTime, planTargetHeap>>20)
			verdict = "met"
			if perOp >= planTargetTime || peak >= planTargetHeap {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(&b, "%-34s %9.2f %11d %12.1f %10.1f %11.0f %7d %7d  %-22s %s\n",
			size, float64(perOp)/1e6, res.AllocsPerOp(), float64(res.AllocedBytesPerOp())/(1<<20),
			float64(peak)/(1<<20), float64(size.images)/perOp.Seconds(), len(plan.Images)-deleted, deleted, target, verdict)
	}
	b.WriteString("\nalloc MiB/op: bytes allocated by one Plan call (what it would need with no garbage collection);\n" +
		"peak MiB: the largest heap growth seen during one Plan call with the collector on (ReadMemStats every 1 ms);\n" +
		"kept/deleted: decisions on the selected AMIs (nine in ten of the fleet; the rest belong to another pipeline).\n")
	fmt.Print(b.String())
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

// collectFleets are the scale fleet and the same doubled: the calls must double, not
// quadruple.
var collectFleets = []fleetSize{
	{images: 1000, templates: 200, instances: 300},
	{images: 2000, templates: 400, instances: 600},
}

type collectRun struct {
	size          fleetSize
	calls         map[string]int
	retried       int // of the calls, the attempts the SDK repeated after a transient error
	collect, plan time.Duration
}

func (r collectRun) total() int {
	n := 0
	for _, c := range r.calls {
		n += c
	}
	return n
}

func TestBenchmarkCollect(t *testing.T) {
	requireBench(t)
	const region = "us-east-1"
	var runs []collectRun
	for _, size := range collectFleets {
		sim := ec2sim.StartTest(t, ec2sim.Options{Logf: func(string, ...any) {}})
		f := newFleet(size, 2)
		f.seed(sim, region)
		src := simSources(t, sim, region)
		pinned := map[string]string{f.newest: "built by this run"}

		sim.ResetCalls()
		started := time.Now()
		inv, err := lifecycle.Collect(context.Background(), src, benchPolicy, pinned)
		if err != nil {
			t.Fatalf("%s: %v", size, err)
		}
		collected := time.Now()
		plan := lifecycle.Plan(inv, benchPolicy, f.now)
		calls, retried := sim.CallCounts(), 0
		for action := range calls {
			retried += sim.Retries(action)
		}
		run := collectRun{size: size, calls: calls, retried: retried,
			collect: collected.Sub(started), plan: time.Since(collected)}
		runs = append(runs, run)

		// The collected inventory must lead to the plan the fleet's own description leads to.
		want := lifecycle.Plan(f.inventory(), benchPolicy, f.now)
		if got, want := plan.ImagesToDelete(), want.ImagesToDelete(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: plan from the collected inventory deletes %d images, the fleet's plan %d", size, len(got), len(want))
		}
		if got, want := plan.SnapshotsToDelete(), want.SnapshotsToDelete(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: plan from the collected inventory deletes %d snapshots, the fleet's plan %d", size, len(got), len(want))
		}
	}
	fmt.Print(collectTable(runs))
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

// collectTable prints one row per AWS action and one column per fleet, then the totals, times and
// targets.
func collectTable(runs []collectRun) string {
	actions := map[string]bool{}
	for _, r := range runs {
		for a := range r.calls {
			actions[a] = true
		}
	}
	names := make([]string, 0, len(actions))
	for a := range actions {
		names = append(names, a)
	}
	sort.Strings(names)

	var b strings.Builder
	b.WriteString("\nlifecycle.Collect + Plan against the in-process simulator (one region)\n")
	fmt.Fprintf(&b, "%-32s", "AWS calls by action")
	for _, r := range runs {
		fmt.Fprintf(&b, " %30s", r.size)
	}
	b.WriteString("\n")
	row := func(label string, cell func(collectRun) string) {
		fmt.Fprintf(&b, "%-32s", label)
		for _, r := range runs {
			fmt.Fprintf(&b, " %30s", cell(r))
		}
		b.WriteString("\n")
	}
	for _, a := range names {
		row(a, func(r collectRun) string { return fmt.Sprint(r.calls[a]) })
	}
	row("total calls", func(r collectRun) string { return fmt.Sprint(r.total()) })
	row("  of which SDK retries", func(r collectRun) string { return fmt.Sprint(r.retried) })
	row("collect (wall)", func(r collectRun) string { return fmt.Sprintf("%.0f ms", float64(r.collect)/1e6) })
	row("plan (wall)", func(r collectRun) string { return fmt.Sprintf("%.1f ms", float64(r.plan)/1e6) })

	first := runs[0]
	verdict := "met"
	if first.total() > collectMaxCalls {
		verdict = "MISSED"
	}
	fmt.Fprintf(&b, "\ntarget: %s collected within %d calls: %d calls, %s\n", first.size, collectMaxCalls, first.total(), verdict)
	for _, r := range runs[1:] {
		sum := func(s fleetSize) int { return s.images + s.templates + s.instances }
		fmt.Fprintf(&b, "%s: resources x%.1f, calls x%.2f (grows with the sum; a per-template-per-AMI scan would make %d calls)\n",
			r.size, float64(sum(r.size))/float64(sum(first.size)), float64(r.total())/float64(first.total()), r.size.images*r.size.templates)
	}
	return b.String()
}
