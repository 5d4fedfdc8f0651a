package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// `make demo` end to end: scripts/demo.sh itself, as a user runs it, in a working folder of the
// test's own (GOLDEN_DEMO_DIR). It builds the plugin and the tools, starts golden-awssim with lab
// machines, and runs example/demo.pkr.hcl with the real packer binary.

// demoTimeout bounds one run of the demo on a loaded 2-core machine.
const demoTimeout = 25 * time.Minute

// demoRegions are the regions the demo leaves its image in.
var demoRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// demo is a run of scripts/demo.sh, and the lab resources of its simulator seen while it ran.
type demo struct {
	*lab.Running
	dir, labDir string

	mu       sync.Mutex
	simPid   int
	machines map[string]string // machine folder -> address slot
	layers   map[string]bool
	stop     chan struct{}
	stopped  chan struct{}
}

// startDemo runs scripts/demo.sh in dir (its GOLDEN_DEMO_DIR) in its own process group, as in a
// terminal, and watches which machines and layers of the lab its simulator owns.
func startDemo(t *testing.T, dir string) *demo {
	t.Helper()
	lab.RequireLab(t)
	root := lab.RepoRoot(t)
	cmd := exec.Command(filepath.Join(root, "scripts", "demo.sh"))
	cmd.Dir = root
	cmd.Env = append(lab.InheritedEnv(), "GOLDEN_DEMO_DIR="+dir)
	d := &demo{dir: dir, labDir: labDir(t), machines: map[string]string{}, layers: map[string]bool{},
		stop: make(chan struct{}), stopped: make(chan struct{})}
	d.Running = lab.StartCommand(t, cmd, demoTimeout)
	go d.watch()
	t.Cleanup(func() {
		select {
		case <-d.stop:
		default:
			close(d.stop)
		}
		<-d.stopped
	})
	return d
}

// watch records, every half second until the run ends, the machine folders and layers whose
// owner is the simulator.
func (d *demo) watch() {
	defer close(d.stopped)
	for {
		d.mu.Lock()
		if d.simPid == 0 {
			// demo.sh writes it as it starts the simulator, and removes it once it stopped it.
			if pid, err := os.ReadFile(filepath.Join(d.dir, "awssim.pid")); err == nil {
				d.simPid, _ = strconv.Atoi(strings.TrimSpace(string(pid)))
			}
		}
		if d.simPid != 0 {
			for _, dir := range ownedBy(filepath.Join(d.labDir, "targets", "*", "owner"), d.simPid) {
				if _, ok := d.machines[dir]; !ok {
					slot, _ := os.ReadFile(filepath.Join(dir, "slot"))
					d.machines[dir] = strings.TrimSpace(string(slot))
				}
			}
			for _, l := range ownedBy(filepath.Join(d.labDir, "layers", "l-*", "owner"), d.simPid) {
				d.layers[l] = true
			}
		}
		d.mu.Unlock()
		select {
		case <-d.stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// ownedBy are the folders of the owner files matching pattern whose owner is pid.
func ownedBy(pattern string, pid int) []string {
	var dirs []string
	owners, _ := filepath.Glob(pattern)
	for _, o := range owners {
		data, _ := os.ReadFile(o)
		if f := strings.Fields(string(data)); len(f) > 0 && f[0] == strconv.Itoa(pid) {
			dirs = append(dirs, filepath.Dir(o))
		}
	}
	return dirs
}

// waitForMachines waits until the simulator owns n machines.
func (d *demo) waitForMachines(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(500 * time.Millisecond) {
		d.mu.Lock()
		got := len(d.machines)
		d.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the simulator booted %d machines within %s, want %d:\n%s", got, timeout, n, d.Output())
		}
	}
}

// finish waits for the run to end and then checks that it left nothing running: no simulator, no
// process of its working folder (packer's plugins, the tools), no machine or layer of the
// simulator, none of their mounts, processes, veths, nft tables or slot records.
func (d *demo) finish(t *testing.T) lab.Result {
	t.Helper()
	res := d.Wait(t)
	close(d.stop)
	<-d.stopped
	var left []string
	// The simulator runs from the working folder, as every tool demo.sh builds: the scan below
	// finds it, whether or not its pid was seen.
	if _, err := os.Stat(filepath.Join(d.dir, "awssim.pid")); err == nil {
		left = append(left, "the simulator's pid file")
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, _ := os.ReadFile(p)
		if cmdline := strings.ReplaceAll(string(data), "\x00", " "); strings.Contains(cmdline, d.dir+"/") {
			left = append(left, "process "+filepath.Base(filepath.Dir(p))+": "+cmdline)
		}
	}
	var dirs, layers []string
	for dir, slot := range d.machines {
		dirs = append(dirs, dir)
		left = append(left, folderTraces([]string{dir}, slot)...)
	}
	for l := range d.layers {
		layers = append(layers, l)
	}
	left = append(left, existing(append(dirs, layers...))...)
	if d.simPid != 0 {
		for _, pattern := range []string{filepath.Join(d.labDir, "targets", "*", "owner"), filepath.Join(d.labDir, "layers", "l-*", "owner")} {
			for _, dir := range ownedBy(pattern, d.simPid) {
				left = append(left, "owned by the simulator: "+dir)
			}
		}
	}
	if len(left) > 0 {
		t.Errorf("after demo.sh ended (exit %d), still there:\n%s\n\ndemo.sh's output:\n%s", res.ExitCode, strings.Join(left, "\n"), res.Output)
	}
	t.Logf("the demo's simulator owned %d machines and %d layers; none is left", len(dirs), len(layers))
	return res
}

// demoSummary is the part of golden-demo-summary's JSON the test reads.
type demoSummary struct {
	Image     string `json:"image"`
	ImageName string `json:"image_name"`
	SourceAMI string `json:"source_ami"`
	Replaces  string `json:"replaces"`
	Regions   []struct {
		Region         string            `json:"region"`
		AMI            string            `json:"ami"`
		CopiedFrom     string            `json:"copied_from"`
		State          string            `json:"state"`
		Tags           map[string]string `json:"tags"`
		SharedWith     []string          `json:"shared_with"`
		Parameter      string            `json:"parameter"`
		ParameterValue string            `json:"parameter_value"`
		PipelineImages []string          `json:"pipeline_images"`
	} `json:"regions"`
	Prune struct {
		Deleted      []demoDecision `json:"deleted"`
		Kept         []demoDecision `json:"kept"`
		ReclaimedGiB int64          `json:"reclaimed_gib"`
	} `json:"prune"`
	Stages []struct {
		Name    string        `json:"name"`
		Elapsed time.Duration `json:"elapsed_ns"`
	} `json:"stages"`
	Leftovers []json.RawMessage `json:"leftovers"`
}

// demoDecision is one image the prune decided on.
type demoDecision struct {
	Region string   `json:"region"`
	AMI    string   `json:"ami"`
	Codes  []string `json:"codes"`
}

func (d demoDecision) id() string { return d.Region + ":" + d.AMI }

// The seeded fleet of example/demo-seed.json: what the prune must delete (older than 30 days,
// outside the newest 3 of their region, used by nothing) and what it must keep, and why.
var (
	demoPruned = []string{"us-east-1:ami-0d0e00000000e0901", "us-east-1:ami-0d0e00000000e1001",
		"us-west-2:ami-0d0e00000000a0901", "eu-west-1:ami-0d0e00000000b0901"}
	demoKeptFor = map[string]string{
		"us-east-1:ami-0d0e00000000e0701": "in-use", // launch template web
		"us-east-1:ami-0d0e00000000e0801": "in-use", // a running instance
		"us-west-2:ami-0d0e00000000a0801": "in-use", // launch template and Auto Scaling group api
		"eu-west-1:ami-0d0e00000000b0701": "shared", // shared with another account
		"us-east-1:ami-0d0e00000000e1101": "newest", // failed its validation, but among the newest 3
	}
)

// TestDemoPipeline runs `make demo` (scripts/demo.sh) to its end and checks its outcome: the new
// AMI in three regions with its provenance and the validation's verdict, the hardening without a
// failed control, the SSM parameter, the fleet pruned with the images in use kept, the summary's
// table, and nothing left running. `make test` leaves it to `make test-matrix`, which sets
// GOLDEN_DEMO_RERUN=1: it then runs the demo a second time in the same working folder, as a user
// re-running `make demo` does, and checks the second run the same way.
func TestDemoPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	dir := t.TempDir()
	runs := 1
	if os.Getenv("GOLDEN_DEMO_RERUN") == "1" {
		runs = 2
	}
	var images []string
	for run := 1; run <= runs; run++ {
		s := checkDemoRun(t, dir)
		t.Logf("run %d of %d in %s: built %s", run, runs, dir, s.Image)
		if slices.Contains(images, s.Image) {
			t.Errorf("run %d built %s again: the re-run reused the earlier run's image", run, s.Image)
		}
		images = append(images, s.Image)
	}
}

// checkDemoRun runs demo.sh once with its working folder dir and checks its outcome (see
// TestDemoPipeline); it returns the run's summary.
func checkDemoRun(t *testing.T, dir string) demoSummary {
	t.Helper()
	d := startDemo(t, dir)
	res := d.finish(t)
	if res.ExitCode != 0 {
		t.Fatalf("scripts/demo.sh exited %d:\n%s", res.ExitCode, res.Output)
	}
	if d.simPid == 0 || len(d.machines) < 2 {
		t.Errorf("the simulator (pid %d) booted %d machines; want the build's and the validation's", d.simPid, len(d.machines))
	}
	t.Logf("demo.sh's output:\n%s", res.Output)

	var s demoSummary
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	reports := filepath.Join(dir, "reports")

	// The build started from Canonical's current Ubuntu 22.04 image and replaces the newest image
	// of the pipeline that passed validation (the newer one that failed is passed over).
	if s.Replaces != "ami-0d0e00000000e1015" || !strings.Contains(res.Output, "replacing golden-demo-ubuntu-22.04-20261015 (ami-0d0e00000000e1015") {
		t.Errorf("the data source picked %q, want the newest validated ami-0d0e00000000e1015", s.Replaces)
	}

	h := readReport(t, reports, "harden.json")
	if h.After.Failed != 0 || h.After.Fixed == 0 || !h.Passed || h.Property("profile") != "cis-level1-server" {
		t.Errorf("golden-harden on a fresh Ubuntu 22.04: want fixes and no failure, got %+v (score %.1f):\n%s", h.After, h.Score, notOK(h, report.StatusPass, report.StatusFixed, report.StatusSkipped))
	}
	vb, err := os.ReadFile(filepath.Join(reports, "validate.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := report.ParseValidation(vb)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Passed || len(v.Targets) != 1 || len(v.Targets[0].Probes) == 0 || len(v.Targets[0].Failed()) > 0 {
		t.Errorf("golden-validate: passed %t, targets %+v", v.Passed, v.Targets)
	}

	if len(s.Regions) != len(demoRegions) {
		t.Fatalf("the image is in %d regions, want %v: %+v", len(s.Regions), demoRegions, s.Regions)
	}
	buildID := s.Regions[0].Tags[goldentag.BuildID]
	var regions []string
	for i, r := range s.Regions {
		regions = append(regions, r.Region)
		if (i == 0) != (r.Region == "us-east-1") || r.State != "available" {
			t.Errorf("region %d: %s %s is %s, want the build region us-east-1 first, every image available", i, r.Region, r.AMI, r.State)
		}
		if (i == 0) != (r.AMI == s.Image) || (i > 0 && r.CopiedFrom != "us-east-1:"+s.Image) {
			t.Errorf("%s: %s copied from %q; want the build's %s in us-east-1 and copies of it", r.Region, r.AMI, r.CopiedFrom, s.Image)
		}
		for k, want := range map[string]string{
			goldentag.Validation: goldentag.ValidationPassed, goldentag.SourceAMI: s.SourceAMI, goldentag.BuildID: buildID,
			goldentag.HardenProfile: "cis-level1-server", goldentag.Pipeline: "golden-demo", "OS": "Ubuntu",
		} {
			if r.Tags[k] != want || want == "" {
				t.Errorf("%s: %s tag %s = %q, want %q", r.Region, r.AMI, k, r.Tags[k], want)
			}
		}
		for _, k := range []string{goldentag.BuildName, goldentag.PackerVersion, goldentag.HardenScore} {
			if r.Tags[k] == "" {
				t.Errorf("%s: %s has no %s tag (tags %v)", r.Region, r.AMI, k, r.Tags)
			}
		}
		if r.Parameter != "/golden/demo/latest" || r.ParameterValue != r.AMI {
			t.Errorf("%s: %s = %q, want %s", r.Region, r.Parameter, r.ParameterValue, r.AMI)
		}
		if !slices.Equal(r.SharedWith, []string{"111122223333"}) {
			t.Errorf("%s: %s shared with %v, want 111122223333", r.Region, r.AMI, r.SharedWith)
		}
		if len(r.PipelineImages) == 0 || r.PipelineImages[0] != r.AMI {
			t.Errorf("%s: the pipeline's images are %v, want %s first", r.Region, r.PipelineImages, r.AMI)
		}
	}
	if slices.Sort(regions); !slices.Equal(regions, slices.Sorted(slices.Values(demoRegions))) {
		t.Errorf("the image is in %v, want %v", regions, demoRegions)
	}
	if !strings.HasPrefix(s.SourceAMI, "ami-") || s.ImageName == "" {
		t.Errorf("source %q, image name %q", s.SourceAMI, s.ImageName)
	}

	// The prune: its report, and what the simulator has afterwards.
	remaining := map[string]bool{}
	for _, r := range s.Regions {
		for _, id := range r.PipelineImages {
			remaining[r.Region+":"+id] = true
		}
	}
	var deleted []string
	for _, img := range s.Prune.Deleted {
		deleted = append(deleted, img.id())
	}
	slices.Sort(deleted)
	want := slices.Sorted(slices.Values(demoPruned))
	if !slices.Equal(deleted, want) || s.Prune.ReclaimedGiB != int64(20*len(demoPruned)) {
		t.Errorf("the prune deleted %v (%d GiB), want %v (20 GiB each)", deleted, s.Prune.ReclaimedGiB, want)
	}
	for _, id := range demoPruned {
		if remaining[id] {
			t.Errorf("%s was pruned, yet the simulator still has it", id)
		}
	}
	for id, code := range demoKeptFor {
		i := slices.IndexFunc(s.Prune.Kept, func(k demoDecision) bool { return k.id() == id })
		if i < 0 || !slices.Contains(s.Prune.Kept[i].Codes, code) || !remaining[id] {
			t.Errorf("%s: want it kept (%s) and still there; kept %t, there %t", id, code, i >= 0, remaining[id])
		}
	}

	// The summary names every stage, and nothing of the build or the validation runs any more.
	var stages []string
	for _, st := range s.Stages {
		stages = append(stages, st.Name)
	}
	for _, want := range []string{"golden-ebs: launch and connect", "golden-harden", "golden-ebs: capture the AMI", "golden-validate", "golden-lifecycle"} {
		if !slices.Contains(stages, want) {
			t.Errorf("the summary's stages %v lack %s", stages, want)
		}
	}
	if s.Leftovers == nil || len(s.Leftovers) > 0 {
		t.Errorf("temporary instances left on the simulator: %s", s.Leftovers)
	}
	for _, want := range []string{"==> packer validate example/demo.pkr.hcl", "The configuration is valid.",
		"Build 'golden-demo.golden-ebs.ubuntu' finished", "Reports in " + reports + ":", "WALL TIME",
		"Temporary instances left: none", "==> stopping the simulator and its machines"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("demo.sh's output lacks %q", want)
		}
	}
	return s
}

func readReport(t *testing.T, dir, name string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.ParseJSON(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// demoInterrupt is a point of the demo where TestDemoInterrupted presses Ctrl-C: reach waits until
// the run is there.
type demoInterrupt struct {
	name  string
	reach func(t *testing.T, d *demo)
	// simReady: the simulator was up, so demo.sh lists the temporary instances left before it
	// stops it.
	simReady bool
}

var demoInterrupts = []demoInterrupt{
	{name: "simulator-start", reach: func(t *testing.T, d *demo) {
		waitForDemo(t, d, "==> starting the AWS simulator with lab machines", 5*time.Minute)
	}},
	// apt-get is installing the essential packages on the build instance.
	{name: "provisioning", simReady: true, reach: func(t *testing.T, d *demo) {
		waitForDemo(t, d, "/essential-packages.sh", 10*time.Minute)
		time.Sleep(5 * time.Second)
	}},
	// golden-validate's instance, a second machine, has booted from the new AMI.
	{name: "validate", simReady: true, reach: func(t *testing.T, d *demo) {
		waitForDemo(t, d, "(type golden-validate)", 20*time.Minute)
		d.waitForMachines(t, 2, 5*time.Minute)
	}},
}

// demoInterruptsDefault are the points `make test` interrupts; GOLDEN_DEMO_INTERRUPTS=all (or a
// comma-separated list of names) runs others: each later point runs most of the demo first.
var demoInterruptsDefault = []string{"provisioning"}

func waitForDemo(t *testing.T, d *demo, want string, timeout time.Duration) {
	t.Helper()
	if !d.WaitForOutput(want, timeout) {
		t.Fatalf("demo.sh did not print %q within %s:\n%s", want, timeout, d.Output())
	}
}

// TestDemoInterrupted presses Ctrl-C (SIGINT to demo.sh's process group, as a terminal sends it)
// at points of the demo, one run after the other in the same working folder, so that each run
// starts where an interrupted one left: demo.sh must end, and leave no simulator, no process of
// its own, no lab machine or layer, and, by the simulator's own account before it stopped, no
// temporary instance that is not terminated.
func TestDemoInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	var names []string
	for _, p := range demoInterrupts {
		names = append(names, p.name)
	}
	wanted := matrixList("GOLDEN_DEMO_INTERRUPTS", names, demoInterruptsDefault)
	for _, w := range wanted {
		if !slices.Contains(names, w) {
			t.Fatalf("GOLDEN_DEMO_INTERRUPTS names %q; the points are %v (or all)", w, names)
		}
	}
	dir := t.TempDir()
	for _, point := range demoInterrupts {
		if !slices.Contains(wanted, point.name) {
			continue
		}
		t.Run(point.name, func(t *testing.T) {
			d := startDemo(t, dir)
			point.reach(t, d)
			interrupted := time.Now()
			if err := d.Interrupt(); err != nil {
				t.Fatal(err)
			}
			res := d.finish(t)
			t.Logf("demo.sh ended %s after Ctrl-C", time.Since(interrupted).Round(100*time.Millisecond))
			if res.ExitCode == 0 {
				t.Errorf("demo.sh exited 0 after Ctrl-C:\n%s", res.Output)
			}
			wants := []string{"==> stopping the simulator and its machines", "    stopped"}
			if point.simReady {
				wants = append(wants, "Temporary instances left: none")
			}
			for _, want := range wants {
				if !strings.Contains(res.Output, want) {
					t.Errorf("demo.sh's output lacks %q:\n%s", want, res.Output)
				}
			}
		})
	}
}
