package e2e

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// The cleanup guarantee of golden-ebs, proven with the real packer binary on the simulator: a
// failure at each AWS call of a build, an interrupt in each step, a killed build swept by the
// next one, -on-error=abort keeping what it made, and -on-error=ask answered at a terminal. The
// builds log in over SSH with their temporary key (lab.InstanceSSH), so the key pair and the
// security group are part of every build, and connect without booting a machine: these builds
// run no command on the instance.

// sshBuildTemplate is a golden-ebs build over SSH that runs no command on the instance: its
// provisioner runs on this machine and sleeps var.provision_seconds. ena_support makes the
// build call ModifyInstanceAttribute too.
func sshBuildTemplate(port int, extra string) string {
	return `packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

variable "provision_seconds" {
  type    = number
  default = 0
}

source "golden-ebs" "test" {
  aws_polling {
    delay_seconds = 1
  }
  source_os                 = "debian-12"
  instance_type             = "t3.micro"
  ami_name                  = "golden-cleanup-e2e"
  ssh_port                  = ` + strconv.Itoa(port) + `
  ssh_timeout               = "2m"
  ssh_clear_authorized_keys = false
  ena_support               = true
  tags                      = { Team = "platform" }
` + extra + `
}

build {
  sources = ["source.golden-ebs.test"]

  provisioner "shell-local" {
    inline = ["echo provisioning-started", "sleep ${var.provision_seconds}"]
  }
}
`
}

// sshBuild is one build's world: its own simulator, the SSH server of its instances and a
// packer environment pointed at both.
type sshBuild struct {
	sim  *ec2sim.Server
	ssh  *lab.InstanceSSH
	p    *lab.PackerEnv
	file string
}

func newSSHBuild(t *testing.T, delays ec2sim.Delays, extra string) *sshBuild {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: delays, Logf: func(string, ...any) {}})
	b := &sshBuild{sim: sim, ssh: lab.StartInstanceSSH(t, sim, ebsRegion), p: lab.Packer(t)}
	b.p.UseSim(sim)
	b.file = b.p.WriteFile(t, "build.pkr.hcl", sshBuildTemplate(b.ssh.Port, extra))
	return b
}

func (b *sshBuild) args(extra ...string) []string {
	return append(append([]string{"build", "-color=false"}, extra...), b.file)
}

// requireClean fails the test if the simulator holds anything the build left behind, or an image
// of a build that did not succeed.
func requireClean(t *testing.T, sim *ec2sim.Server, res lab.Result) {
	t.Helper()
	if left := leftovers(sim, ebsRegion); len(left) > 0 {
		t.Errorf("exit %d, left behind: %v\n%s", res.ExitCode, left, res.Output)
	}
	images := builtImages(sim, ebsRegion)
	switch {
	case res.ExitCode == 0 && len(images) != 1:
		t.Errorf("the build succeeded with %d images, want 1:\n%s", len(images), res.Output)
	case res.ExitCode != 0 && len(images) != 0:
		t.Errorf("the build failed (exit %d) and left image %s:\n%s", res.ExitCode, images[0].ID, res.Output)
	}
	if strings.Contains(res.Output, "panic:") {
		t.Errorf("packer or the plugin panicked:\n%s", res.Output)
	}
}

// parallelBuilds is how many packer builds a test runs at once (GOLDEN_E2E_BUILDS, default 6):
// they mostly wait on the simulator's polls.
func parallelBuilds() int {
	if n, err := strconv.Atoi(os.Getenv("GOLDEN_E2E_BUILDS")); err == nil && n > 0 {
		return n
	}
	return 6
}

// runCases runs each case as a subtest, parallelBuilds at a time, whatever go test's -parallel.
func runCases(t *testing.T, names []string, run func(t *testing.T, i int)) {
	t.Helper()
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallelBuilds())
	for i, name := range names {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			t.Run(name, func(t *testing.T) { run(t, i) })
		}()
	}
	wg.Wait()
}

// injectedCode is the error every injected failure answers with: not one the SDK retries, so
// the call fails where the build made it.
const injectedCode = "UnauthorizedOperation"

// defaultEBSFaults are the actions whose first call TestEBSCleanupAfterEachFailure fails by
// default: every call that creates, changes or deletes something, from the key pair to the cleanup.
// GOLDEN_E2E_CLEANUP=all fails each of a build's calls in turn, the waits' polls included.
var defaultEBSFaults = []string{"ImportKeyPair", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "RunInstances",
	"StopInstances", "ModifyInstanceAttribute", "CreateImage", "ModifyImageAttribute", "DeleteTags",
	"TerminateInstances", "DeleteSecurityGroup", "DeleteKeyPair"}

// TestEBSCleanupAfterEachFailure counts the AWS calls of a successful build, then runs the build
// once per call with that call failing, and checks each time that nothing is left: no live
// instance, temporary group or key pair, unfinished image or orphan snapshot, and no image of a
// failed build. Failures of cleanup calls are covered too: a build that succeeded must still
// clean up.
func TestEBSCleanupAfterEachFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	base := newSSHBuild(t, quickDelays, "")
	res := base.p.Run(t, base.args()...)
	if res.ExitCode != 0 {
		t.Fatalf("the build without faults exited %d:\n%s", res.ExitCode, res.Output)
	}
	requireClean(t, base.sim, res)
	if base.ssh.Accepted() == 0 {
		t.Fatalf("the build never logged in with its temporary key:\n%s", res.Output)
	}
	counts := base.sim.CallCounts()
	type call struct {
		action string
		n      int
	}
	var calls []call
	var names []string
	for _, action := range slices.Sorted(maps.Keys(counts)) {
		for n := 1; n <= counts[action]; n++ {
			calls = append(calls, call{action, n})
			names = append(names, fmt.Sprintf("%s#%d", action, n))
		}
	}
	t.Logf("a build makes %d AWS calls: %v", len(calls), counts)
	for _, required := range defaultEBSFaults {
		if counts[required] == 0 {
			t.Errorf("the build never calls %s: the matrix misses it", required)
		}
	}

	if !cleanupSuite() {
		calls = slices.DeleteFunc(calls, func(c call) bool { return c.n > 1 || !slices.Contains(defaultEBSFaults, c.action) })
		names = names[:0]
		for _, c := range calls {
			names = append(names, fmt.Sprintf("%s#%d", c.action, c.n))
		}
		t.Logf("failing %d of them (GOLDEN_E2E_CLEANUP=all fails each call)", len(calls))
	}

	var mu sync.Mutex
	failedBuilds, reached := 0, 0
	runCases(t, names, func(t *testing.T, i int) {
		c := calls[i]
		b := newSSHBuild(t, quickDelays, "")
		b.sim.FailNth(c.action, c.n, injectedCode, "injected failure of "+c.action)
		res := b.p.Run(t, b.args()...)
		requireClean(t, b.sim, res)
		mu.Lock()
		defer mu.Unlock()
		if b.sim.Calls(c.action) >= c.n {
			reached++
		} else {
			t.Logf("this run made only %d %s calls: the failure was not injected", b.sim.Calls(c.action), c.action)
		}
		if res.ExitCode != 0 {
			failedBuilds++
			if !strings.Contains(res.Output, "injected failure of "+c.action) {
				t.Errorf("the build failed, but not with the injected error:\n%s", res.Output)
			}
		}
	})
	t.Logf("%d builds, %d with the failure injected, %d of them failed", len(calls), reached, failedBuilds)
	// Polls of waits vary in number between runs; all but a few calls must have been hit.
	if reached < len(calls)*9/10 {
		t.Errorf("only %d of %d failures were injected", reached, len(calls))
	}
	if failedBuilds == 0 {
		t.Error("no injected failure failed a build")
	}
}

// ebsInterruptPoint is where TestEBSCleanupAfterInterrupt sends SIGINT: when the n-th call of an
// action arrives at the simulator, when the build logs in over SSH, or when packer printed a line.
type ebsInterruptPoint struct {
	step   string
	action string
	n      int
	login  bool
	output string
}

var ebsInterruptPoints = []ebsInterruptPoint{
	{step: "StepSweepOrphans", action: "DescribeInstances", n: 1},
	{step: "StepCheckAMIName", action: "DescribeImages", n: 2},
	{step: "StepSourceAMI", action: "GetParameter", n: 1},
	{step: "StepNetwork", action: "DescribeSubnets", n: 1},
	{step: "StepKeyPair", action: "ImportKeyPair", n: 1},
	{step: "StepSecurityGroup", action: "CreateSecurityGroup", n: 1},
	{step: "StepRunInstance (launch)", action: "RunInstances", n: 1},
	{step: "StepRunInstance (status checks)", action: "DescribeInstanceStatus", n: 1},
	{step: "StepAuthorizeCaller", action: "AuthorizeSecurityGroupIngress", n: 1},
	{step: "StepConnect", login: true},
	{step: "StepProvision", output: "provisioning-started"},
	{step: "StepStopInstance", action: "StopInstances", n: 1},
	{step: "StepENASupport", action: "ModifyInstanceAttribute", n: 1},
	{step: "StepCreateImage", action: "CreateImage", n: 1},
	{step: "StepCreateImage (wait)", output: "to be available..."},
	{step: "StepFinishImage", action: "ModifyImageAttribute", n: 1},
	{step: "StepFinishImage (tags)", action: "DeleteTags", n: 1},
}

// defaultEBSInterrupts are the steps TestEBSCleanupAfterInterrupt interrupts by default, one per
// phase: before the instance, launching it, logged in, provisioning, waiting for the image, after
// the image. GOLDEN_E2E_CLEANUP=all interrupts every step of ebsInterruptPoints.
var defaultEBSInterrupts = []string{"StepKeyPair", "StepRunInstance (launch)", "StepConnect", "StepProvision",
	"StepCreateImage (wait)", "StepFinishImage"}

// TestEBSCleanupAfterInterrupt interrupts a build in each of its steps, as Ctrl-C does, and
// checks that the build stops, cleans up, and leaves nothing.
func TestEBSCleanupAfterInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	points := ebsInterruptPoints
	if !cleanupSuite() {
		points = slices.DeleteFunc(slices.Clone(points), func(ip ebsInterruptPoint) bool { return !slices.Contains(defaultEBSInterrupts, ip.step) })
		if len(points) != len(defaultEBSInterrupts) {
			t.Fatalf("defaultEBSInterrupts names a step that ebsInterruptPoints lacks: %v", defaultEBSInterrupts)
		}
	}
	names := make([]string, len(points))
	for i, ip := range points {
		names[i] = ip.step
	}
	runCases(t, names, func(t *testing.T, i int) {
		ip := points[i]
		delays := quickDelays
		delays.ImagePending = 5 * time.Second // long enough to be interrupted while waiting
		b := newSSHBuild(t, delays, "")
		var r *lab.Running
		started := make(chan struct{})
		interrupted := make(chan struct{})
		// The interrupt comes once the call has taken effect and before its answer is sent:
		// whether the cancelled build still reads that answer or not, it must remove what the
		// call made.
		interrupt := func() {
			<-started
			r.Interrupt()
			close(interrupted)
		}
		switch {
		case ip.action != "":
			b.sim.OnCall(ip.action, ip.n, interrupt)
		case ip.login:
			b.ssh.OnLogin(interrupt)
		}
		args := b.args()
		if ip.output == "provisioning-started" {
			args = b.args("-var", "provision_seconds=30")
		}
		r = b.p.Start(t, args...)
		close(started)
		if ip.output != "" {
			if !r.WaitForOutput(ip.output, 3*time.Minute) {
				t.Fatalf("packer never printed %q:\n%s", ip.output, r.Output())
			}
			r.Interrupt()
			close(interrupted)
		}
		res := r.Wait(t)
		select {
		case <-interrupted:
		default:
			t.Fatalf("the build ended before it reached %s:\n%s", ip.step, res.Output)
		}
		if res.ExitCode == 0 || !strings.Contains(res.Output, "Cleanly cancelled builds after being interrupted.") {
			t.Errorf("exit %d: the build was not cancelled by the interrupt:\n%s", res.ExitCode, res.Output)
		}
		requireClean(t, b.sim, res)
	})
}

// TestEBSSweepAfterKill kills packer and its plugin with SIGKILL while the build waits for its
// image, so that nothing cleans up, then runs the next build in the same account and region: its
// sweep_orphans removes every expired temporary resource of the killed one and says so.
func TestEBSSweepAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	delays := quickDelays
	delays.ImagePending = time.Minute
	// The killed build's resources expire a second after it made them.
	b := newSSHBuild(t, delays, `  temporary_resources_ttl = "1s"`)
	r := b.p.Start(t, b.args()...)
	if !r.WaitForOutput("to be available...", 3*time.Minute) {
		t.Fatalf("the build never waited for its image:\n%s", r.Output())
	}
	r.Kill()
	killed := r.Wait(t)
	left := leftovers(b.sim, ebsRegion)
	for _, kind := range []string{"instance", "security group", "key pair", "unfinished image", "orphan snapshot"} {
		if !slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, kind+" ") }) {
			t.Errorf("after SIGKILL no %s was left, so the sweep is not shown removing one: %v\n%s", kind, left, killed.Output)
		}
	}

	b.sim.SetDelays(quickDelays)
	time.Sleep(1500 * time.Millisecond) // past the killed build's expiry
	next := b.p.Run(t, b.args()...)
	if next.ExitCode != 0 {
		t.Fatalf("the next build exited %d:\n%s", next.ExitCode, next.Output)
	}
	for _, in := range b.sim.Instances(ebsRegion) {
		if strings.Contains(killed.Output, in.ID) && !strings.Contains(next.Output, "Removed expired instance "+in.ID) {
			t.Errorf("the sweep does not say it removed instance %s:\n%s", in.ID, next.Output)
		}
	}
	for _, want := range []string{"Removed expired security group sg-", "Removed expired key pair golden-ebs-",
		"Removed expired image ami-", "Removed expired snapshot snap-"} {
		if !strings.Contains(next.Output, want) {
			t.Errorf("the sweep output lacks %q:\n%s", want, next.Output)
		}
	}
	if left := leftovers(b.sim, ebsRegion); len(left) > 0 {
		t.Errorf("after the sweeping build, left: %v\n%s", left, next.Output)
	}
	if images := builtImages(b.sim, ebsRegion); len(images) != 1 {
		t.Errorf("want only the second build's image, got %d", len(images))
	}
}

// resourceID finds the id in a line of leftovers.
var resourceID = regexp.MustCompile(`\b(i|sg|ami|snap)-[0-9a-f]+|golden-ebs-[0-9a-f-]+`)

// TestEBSOnErrorAbort: with -on-error=abort a failed build keeps what it made, as amazon-ebs does,
// for the user to look at, and says what it kept and how it goes away.
func TestEBSOnErrorAbort(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	b := newSSHBuild(t, quickDelays, "")
	b.sim.FailNth("ModifyImageAttribute", 1, injectedCode, "injected failure of ModifyImageAttribute")
	res := b.p.Run(t, b.args("-on-error=abort")...)
	if res.ExitCode == 0 {
		t.Fatalf("the build succeeded despite the failure:\n%s", res.Output)
	}
	left := leftovers(b.sim, ebsRegion)
	for _, kind := range []string{"instance", "security group", "key pair", "unfinished image"} {
		if !slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, kind+" ") }) {
			t.Errorf("-on-error=abort did not keep the %s: %v", kind, left)
		}
	}
	for _, what := range left {
		id := resourceID.FindString(what)
		if !strings.Contains(res.Output, id) {
			t.Errorf("the output does not name the kept %s:\n%s", id, res.Output)
		}
	}
	if !strings.Contains(flat(res.Output), "-on-error=abort: kept") || !strings.Contains(flat(res.Output), "sweep_orphans") {
		t.Errorf("the output does not say what was kept and how it goes away:\n%s", res.Output)
	}
}

// askPrompt is the question packer's -on-error=ask puts after a failed step (packer-plugin-sdk's
// commonsteps).
const askPrompt = "[c] Clean up and exit, [a] abort without cleanup, or [r] retry step"

// TestEBSOnErrorAsk drives `packer build -on-error=ask` through a terminal, as a user at the
// keyboard: the image's final step fails once, packer asks, and the test answers. Abort keeps
// everything and names it; cleanup cleans up; retry runs the step again, which then succeeds, and
// the build ends with its image and nothing temporary left.
func TestEBSOnErrorAsk(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	for _, answer := range []string{"abort", "cleanup", "retry"} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			b := newSSHBuild(t, quickDelays, "")
			b.sim.FailNth("ModifyImageAttribute", 1, injectedCode, "injected failure of ModifyImageAttribute")
			r, term := b.p.StartInTerminal(t, b.args("-on-error=ask")...)
			if !r.WaitForOutput(askPrompt, 3*time.Minute) {
				t.Fatalf("packer never asked what to do:\n%s", r.Output())
			}
			term.Type(t, answer[:1])
			res := r.Wait(t)
			out := flat(res.Output)
			if n := strings.Count(out, askPrompt); n != 1 {
				t.Errorf("packer asked %d times, want once:\n%s", n, res.Output)
			}
			if !strings.Contains(out, `Step "StepFinishImage" failed`) {
				t.Errorf("packer does not name the failed step:\n%s", res.Output)
			}
			switch answer {
			case "abort":
				if res.ExitCode == 0 {
					t.Errorf("the aborted build exited 0:\n%s", res.Output)
				}
				left := leftovers(b.sim, ebsRegion)
				for _, kind := range []string{"instance", "security group", "key pair", "unfinished image"} {
					if !slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, kind+" ") }) {
						t.Errorf("answering abort did not keep the %s: %v", kind, left)
					}
				}
				for _, what := range left {
					if id := resourceID.FindString(what); !strings.Contains(res.Output, id) {
						t.Errorf("the output does not name the kept %s:\n%s", id, res.Output)
					}
				}
				if !strings.Contains(out, "-on-error=ask (answered abort): kept") || !strings.Contains(out, "sweep_orphans") {
					t.Errorf("the output does not say what was kept and how it goes away:\n%s", res.Output)
				}
			case "cleanup":
				if res.ExitCode == 0 {
					t.Errorf("the build exited 0 after its failure:\n%s", res.Output)
				}
				requireClean(t, b.sim, res)
			case "retry":
				if res.ExitCode != 0 {
					t.Errorf("the build whose failed step succeeded on retry exited %d:\n%s", res.ExitCode, res.Output)
				}
				if n := b.sim.Calls("ModifyImageAttribute"); n != 2 {
					t.Errorf("ModifyImageAttribute was called %d times, want 2 (the failure, the retry)", n)
				}
				requireClean(t, b.sim, res)
			}
		})
	}
}
