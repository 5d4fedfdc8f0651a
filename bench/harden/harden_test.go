// Package harden benchmarks golden-harden on the Debian 12 lab target (test/target): the baseline
// profile (the hand-written playbook's scope) and the full cis-level1-server profile, each applied
// to a fresh target booted from the lab's hardening image (every package the profiles install
// already there) and then re-run, the profiles alternating run after run. The full bench also
// applies baseline once to a target of the plain image, whose packages come from the mirror, to
// show what the figures depend on (bench/README.md, "Why figures differed"). With
// GOLDEN_BENCH_COMPARE_PLUGIN set
// to another build of the plugin (e.g. of an older commit), each run also applies both profiles
// with that build on a target of its own, alternating with this tree's. Run it with
// `scripts/bench.sh harden`.
package harden

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchlab"
	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

var suite = benchrec.NewSuite("harden")

func TestMain(m *testing.M) { os.Exit(benchrec.Main(suite, func() int { return lab.Main(m) })) }

type scenario struct {
	profile string
	// The golden-harden issue's targets for golden-harden's own time (apply), first run and
	// re-run, and the benchmark issue's for a whole re-run.
	apply, rerun float64
}

const group = "golden-harden on the Debian 12 target (point 0)"

func TestBenchmarkHarden(t *testing.T) {
	benchrec.Require(t)
	suite.Assume("harden: Debian 12 test target (systemd-nspawn container, test/target) booted fresh for every run from the lab's " +
		"hardening image, which already holds lab.HardeningPackages; apt transactions and package lists on the target are counted " +
		"before and after each run (0: nothing came from the mirror)")
	suite.Assume("harden: " + benchlab.PackerState)
	scenarios := []scenario{{profile: "baseline", apply: 3, rerun: 2}, {profile: "cis-level1-server", apply: 10, rerun: 3}}
	if only := os.Getenv("GOLDEN_BENCH_HARDEN_PROFILES"); only != "" {
		// For profiling one profile: `GOLDEN_BENCH_HARDEN_PROFILES=cis-level1-server`.
		scenarios = slices.DeleteFunc(scenarios, func(sc scenario) bool { return !slices.Contains(strings.Split(only, ","), sc.profile) })
		suite.Assume("harden: profiles %s only (GOLDEN_BENCH_HARDEN_PROFILES)", only)
	} else if benchrec.Quick() {
		// bench-quick's budget: cis-level1-server and its re-run are timed on a Debian 12 lab
		// machine (TestBenchmarkHardenMachines).
		scenarios = scenarios[:1]
		suite.Assume("harden: bench-quick runs baseline only on the test target (cis-level1-server: the per-OS rows, on a Debian 12 lab machine)")
	}
	modules, moduleCPU := map[string][]map[string]int64{}, map[string][]map[string]int64{}
	other := os.Getenv("GOLDEN_BENCH_COMPARE_PLUGIN")
	if other != "" {
		suite.Assume("harden: rows marked %q apply the plugin build %s", compareLabel, other)
	}
	for run := range benchrec.Runs() {
		for _, sc := range scenarios {
			t.Run(fmt.Sprintf("%s-%d", sc.profile, run), func(t *testing.T) {
				h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
				first, rerun, apt := applyTwice(t, lab.Packer(t), h, sc.profile)
				modules[sc.profile] = append(modules[sc.profile], benchlab.ModuleTimes(first.Report))
				moduleCPU[sc.profile] = append(moduleCPU[sc.profile], benchlab.ModuleCPU(first.Report))
				moduleCPU[sc.profile+" re-run"] = append(moduleCPU[sc.profile+" re-run"], benchlab.ModuleCPU(rerun.Report))
				record(sc, first, rerun, apt)
			})
			if other == "" {
				continue
			}
			t.Run(fmt.Sprintf("%s-other-%d", sc.profile, run), func(t *testing.T) {
				h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
				first, rerun, _ := applyTwice(t, otherPlugin(t, other), h, sc.profile)
				modules[sc.profile+" "+compareLabel] = append(modules[sc.profile+" "+compareLabel], benchlab.ModuleTimes(first.Report))
				suite.Row(group, sc.profile+": golden-harden apply, "+compareLabel, "s").AddDuration(first.Apply)
				suite.Row(group, sc.profile+": re-run, golden-harden apply, "+compareLabel, "s").AddDuration(rerun.Apply)
			})
		}
	}
	if other != "" {
		for _, sc := range scenarios {
			suite.Row(group, sc.profile+": golden-harden apply, "+compareLabel, "s").Note = "slowest: " + benchlab.Slowest(modules[sc.profile+" "+compareLabel], 4)
			suite.Ratio(group, sc.profile+": this tree / "+compareLabel+", apply", suite.Row(group, sc.profile+": golden-harden apply", "s"),
				suite.Row(group, sc.profile+": golden-harden apply, "+compareLabel, "s"))
		}
	}
	for _, sc := range scenarios {
		suite.Row(group, sc.profile+": golden-harden apply", "s").Note = "slowest: " + benchlab.Slowest(modules[sc.profile], 4)
		suite.Detail("module_ms_"+sc.profile, modules[sc.profile])
		suite.Row(group, sc.profile+": CPU on the target", "s").Note = "most CPU: " + benchlab.Slowest(moduleCPU[sc.profile], 4)
		suite.Row(group, sc.profile+": re-run, CPU on the target", "s").Note = "most CPU: " + benchlab.Slowest(moduleCPU[sc.profile+" re-run"], 4)
		suite.Detail("module_cpu_ms_"+sc.profile, moduleCPU[sc.profile])
		suite.Detail("module_cpu_ms_"+sc.profile+"_rerun", moduleCPU[sc.profile+" re-run"])
	}

	// The same profile on the plain image: what a bench measures when the image lacks the packages.
	// It measures the mirror (minutes): the full bench only.
	if benchrec.Quick() {
		return
	}
	t.Run("baseline-plain-image", func(t *testing.T) {
		h := lab.Target(t)
		first, _, apt := applyTwice(t, lab.Packer(t), h, "baseline")
		suite.Row(group, "baseline on the plain image (packages from the mirror): apply", "s").AddDuration(first.Apply).How = "1 run"
		suite.Row(group, "baseline on the plain image: apt transactions, package lists", "requests").
			Add(float64(apt.Transactions)).Note = fmt.Sprintf("%d lists fetched", apt.Lists)
		suite.Detail("module_ms_baseline_plain_image", benchlab.ModuleTimes(first.Report))
	})
}

// imageApt notes once what apt state the image gives a fresh target.
var imageApt sync.Once

// applyTwice applies profile to the target and re-runs it; it returns both runs and what apt did
// during the first.
func applyTwice(t *testing.T, p *lab.PackerEnv, h *lab.TargetHost, profile string) (first, rerun benchlab.HardenRun, apt benchlab.AptState) {
	t.Helper()
	before := benchlab.ParseApt(h.MustRun(t, benchlab.AptCommand))
	imageApt.Do(func() {
		suite.Assume("harden: a fresh target of the image holds %d package list(s) and %d apt transaction(s) in its history before the run",
			before.Lists, before.Transactions)
	})
	first = benchlab.Harden(t, p, h.PackerVars(), profile, profile+"-apply", "")
	after := benchlab.ParseApt(h.MustRun(t, benchlab.AptCommand))
	rerun = benchlab.Harden(t, p, h.PackerVars(), profile, profile+"-rerun", "")
	return first, rerun, benchlab.AptState{Transactions: after.Transactions - before.Transactions, Lists: after.Lists - before.Lists}
}

func record(sc scenario, first, rerun benchlab.HardenRun, apt benchlab.AptState) {
	p := sc.profile
	suite.Row(group, p+": golden-harden apply", "s").AddDuration(first.Apply).Target(fmt.Sprintf("<= %g s", sc.apply), sc.apply, true)
	suite.Row(group, p+": whole packer build", "s").AddDuration(first.Wall)
	suite.Row(group, p+": apt transactions during the run", "requests").Add(float64(apt.Transactions+apt.Lists)).Target("0", 0, true)
	r := suite.Row(group, p+": re-run, golden-harden apply", "s").AddDuration(rerun.Apply)
	if sc.rerun > 0 {
		r.Target(fmt.Sprintf("<= %g s", sc.rerun), sc.rerun, true)
	}
	suite.Row(group, p+": re-run, whole packer build", "s").AddDuration(rerun.Wall).Target("< 3 s", 3, true)
	suite.Row(group, p+": re-run, changes", "changes").Add(float64(rerun.Changes())).Target("0", 0, true)
	usage(p+": ", first)
	usage(p+": re-run, ", rerun)
	failed := suite.Row(group, p+": controls left failed", "changes").Add(float64(len(first.Failed))).Target("0", 0, true)
	if len(first.Failed) > 0 {
		failed.Note = strings.Join(first.Failed, ", ")
	}
}

// usage records the work a run did on the target: CPU (the machine's when it tells, else the
// script's) and the processes it started, figures that the host's load does not inflate.
func usage(prefix string, run benchlab.HardenRun) {
	cpu, how := run.MachineCPU, "the machine's cgroup"
	if cpu < 0 {
		cpu, how = run.CPU, "the script and the processes it waited for"
	}
	suite.Row(group, prefix+"CPU on the target", "s").AddDuration(cpu).How = how
	if run.Processes >= 0 {
		suite.Row(group, prefix+"processes started on the target", "processes").Add(float64(run.Processes))
	}
}

// compareLabel marks the rows of GOLDEN_BENCH_COMPARE_PLUGIN's build.
const compareLabel = "compared build"

// otherPlugin is a packer environment whose plugin folder holds the plugin binary bin instead of
// this tree's build.
func otherPlugin(t *testing.T, bin string) *lab.PackerEnv {
	t.Helper()
	p := lab.Packer(t)
	p.Setenv("PACKER_PLUGIN_PATH", filepath.Join(p.Dir, "..", "compared-plugin"))
	if res := p.Run(t, "plugins", "install", "--path", bin, "github.com/golden-ami/golden"); res.ExitCode != 0 {
		t.Fatalf("installing %s:\n%s", bin, res.Output)
	}
	return p
}
