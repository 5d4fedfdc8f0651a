package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// golden-validate's cleanup guarantee, with the real packer binary: a failure injected at each
// AWS call it makes, and an interrupt (what Ctrl-C sends) at each of its steps, leave no
// instance, temporary security group or key pair behind. The instance is the Debian 12 target
// (fixed-address mode); authorizeLaunchKeys gives it the run's temporary key, as cloud-init gives
// a launched instance its key pair.

// cleanupProbes are the probes of the cleanup runs: one, quickly passing.
const cleanupProbes = `
    service {
      name = "ssh"
    }
`

// cleanupTemplate is validateTemplate with the temporary key pair (no ssh_private_key_file).
func cleanupTemplate() string {
	return strings.Replace(validateTemplate(cleanupProbes, ""), "    ssh_private_key_file = var.key\n", "", 1)
}

// ebsOnlyTemplate is the same build without golden-validate: what golden-ebs calls alone.
func ebsOnlyTemplate() string {
	t := validateTemplate(cleanupProbes, "")
	start := strings.Index(t, `  post-processor "golden-validate" {`)
	end := strings.LastIndex(t, "  }\n")
	return t[:start] + t[end+len("  }\n"):]
}

// authorizeLaunchKeys adds every key pair the simulator receives to the target's authorized_keys
// until the test ends.
func authorizeLaunchKeys(t *testing.T, sim *ec2sim.Server, target *lab.TargetHost) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		seen := map[string]bool{}
		for ctx.Err() == nil {
			for _, k := range sim.KeyPairs(ebsRegion) {
				if seen[k.Name] || k.PublicKey == "" {
					continue
				}
				if _, err := target.Run(t, "echo "+strconv.Quote(k.PublicKey)+" >>~/.ssh/authorized_keys"); err == nil {
					seen[k.Name] = true
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
}

// cleanupRun is one build on a simulator of its own; before runs before packer starts, during
// runs alongside it until it returns or stop is closed (packer has ended).
func cleanupRun(t *testing.T, target *lab.TargetHost, template string, before func(*ec2sim.Server),
	during func(sim *ec2sim.Server, p *lab.PackerEnv, stop <-chan struct{})) (lab.Result, *ec2sim.Server) {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: quickDelays, InstanceAddress: target.Host})
	p := lab.Packer(t)
	p.UseSim(sim)
	authorizeLaunchKeys(t, sim, target)
	if before != nil {
		before(sim)
	}
	stop, joined := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(joined)
		if during != nil {
			during(sim, p, stop)
		}
	}()
	file := p.WriteFile(t, "cleanup.pkr.hcl", template)
	res := p.Run(t, append(append([]string{"build", "-color=false"}, target.PackerVars()...), file)...)
	close(stop)
	<-joined
	return res, sim
}

// cleanupSuite names the faults and interrupts to run: GOLDEN_E2E_CLEANUP=all runs one per AWS
// call and per step; by default a few, one per phase (launch, wait, probe, gate, cleanup), keep
// `make test` short.
func cleanupSuite() (all bool) { return os.Getenv("GOLDEN_E2E_CLEANUP") == "all" }

var defaultFaults = []string{"CreateSecurityGroup", "RunInstances", "DescribeInstanceStatus", "CreateTags", "TerminateInstances", "DeleteSecurityGroup"}

// ebsBaseline starts the target and counts what golden-ebs calls alone, so that a fault or an
// interrupt lands on golden-validate's own call of an action.
func ebsBaseline(t *testing.T) (*lab.TargetHost, map[string]int) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	target := lab.Target(t)
	res, sim := cleanupRun(t, target, ebsOnlyTemplate(), nil, nil)
	if res.ExitCode != 0 {
		t.Fatalf("golden-ebs alone exited %d:\n%s", res.ExitCode, res.Output)
	}
	return target, sim.CallCounts()
}

// TestValidateCleansUpAfterFaults fails golden-validate's first call of each AWS action it makes.
// What follows depends on whose call it is (faultOutcome); whatever it is, nothing is left behind.
func TestValidateCleansUpAfterFaults(t *testing.T) {
	t.Parallel()
	target, ebsCalls := ebsBaseline(t)
	res, sim := cleanupRun(t, target, cleanupTemplate(), nil, nil)
	if res.ExitCode != 0 {
		t.Fatalf("the fault-free run exited %d:\n%s", res.ExitCode, res.Output)
	}
	if !strings.Contains(res.Output, "Importing temporary ed25519 key pair") {
		t.Errorf("the run did not use a temporary key pair:\n%s", res.Output)
	}
	var actions []string
	for action, n := range sim.CallCounts() {
		if n > ebsCalls[action] {
			actions = append(actions, action)
		}
	}
	slices.Sort(actions)
	t.Logf("golden-validate's calls: %v", actions)
	if !cleanupSuite() {
		actions = slices.DeleteFunc(actions, func(a string) bool { return !slices.Contains(defaultFaults, a) })
	}
	for _, action := range actions {
		t.Run(action, func(t *testing.T) {
			first := ebsCalls[action] + 1
			res, sim := cleanupRun(t, target, cleanupTemplate(), func(sim *ec2sim.Server) {
				sim.FailNth(action, first, "UnauthorizedOperation", "injected failure of "+action)
			}, nil)
			if sim.Calls(action) < first {
				t.Fatalf("golden-validate never called %s", action)
			}
			reported := strings.Contains(res.Output, "injected failure of "+action)
			switch faultOutcome(action) {
			case retried:
				if sim.Calls(action) == first {
					t.Errorf("the failed %s was not retried:\n%s", action, res.Output)
				}
				if res.ExitCode != 0 {
					t.Errorf("a retried failure of %s failed the build:\n%s", action, res.Output)
				}
			case sweepGoesOn:
				if !reported || !strings.Contains(flat(res.Output), "(the build goes on; the next run tries again)") {
					t.Errorf("the sweep does not report the failure of %s and go on:\n%s", action, res.Output)
				}
				if res.ExitCode != 0 || !strings.Contains(res.Output, "passed on every target") {
					t.Errorf("a failure of the sweep's %s stopped the validation:\n%s", action, res.Output)
				}
			case buildFails:
				if !reported {
					t.Errorf("the injected failure of %s was not reported:\n%s", action, res.Output)
				}
				if res.ExitCode == 0 {
					t.Errorf("a failure of %s did not fail the build:\n%s", action, res.Output)
				}
			}
			if left := leftovers(sim, ebsRegion); len(left) > 0 {
				t.Errorf("after a failure of %s, left behind: %v\n%s", action, left, res.Output)
			}
		})
	}
}

// What a failure of golden-validate's first call of an action does.
const (
	buildFails = iota
	// retried: a cleanup call, retried until it succeeds; the build's outcome is unchanged.
	retried
	// sweepGoesOn: the first call is the orphan sweep's listing. The sweep never fails the build
	// (sweep_orphans in docs/builders/ebs.mdx): it reports the failure and the validation goes on.
	sweepGoesOn
)

func faultOutcome(action string) int {
	switch action {
	case "TerminateInstances", "DeleteSecurityGroup", "DeleteKeyPair":
		return retried
	case "DescribeInstances", "DescribeSnapshots", "DescribeSecurityGroups", "DescribeKeyPairs":
		return sweepGoesOn
	}
	return buildFails
}

// interruptPoints are the steps an interrupt lands in, each recognised by the call that starts
// it (its n-th call counted from golden-ebs's own) or, once connected, by the probe script
// appearing on the target.
var interruptPoints = []struct {
	step, action string
}{
	{"sweep", "DescribeKeyPairs"},
	{"network", "DescribeSubnets"},
	{"key pair", "ImportKeyPair"},
	{"security group", "CreateSecurityGroup"},
	{"run instance", "RunInstances"},
	{"status checks", "DescribeInstanceStatus"},
	{"authorize caller", "AuthorizeSecurityGroupIngress"},
	{"probes", ""},
}

func TestValidateCleansUpAfterInterrupts(t *testing.T) {
	t.Parallel()
	target, ebsCalls := ebsBaseline(t)
	points := interruptPoints
	if !cleanupSuite() {
		points = []struct{ step, action string }{interruptPoints[4], interruptPoints[7]}
	}
	for _, pt := range points {
		t.Run(strings.ReplaceAll(pt.step, " ", "_"), func(t *testing.T) {
			res, sim := cleanupRun(t, target, interruptTemplate(), nil, func(sim *ec2sim.Server, p *lab.PackerEnv, stop <-chan struct{}) {
				for {
					if pt.action != "" && sim.Calls(pt.action) > ebsCalls[pt.action] ||
						pt.action == "" && probeScriptRunning(t, target) {
						interruptPacker(t, p.Dir)
						return
					}
					select {
					case <-stop:
						t.Errorf("packer ended before the %s step", pt.step)
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			})
			if !strings.Contains(strings.ToLower(res.Output), "interrupt") {
				t.Errorf("packer does not report the interrupt at %s:\n%s", pt.step, res.Output)
			}
			if res.ExitCode == 0 {
				t.Errorf("interrupted at %s, packer exited 0:\n%s", pt.step, res.Output)
			}
			if left := leftovers(sim, ebsRegion); len(left) > 0 {
				t.Errorf("interrupted at %s, left behind: %v\n%s", pt.step, left, res.Output)
			}
			for _, img := range sim.Images(ebsRegion) {
				if img.Tags[goldentag.Validation] == goldentag.ValidationPassed {
					t.Errorf("interrupted at %s, image %s was tagged passed", pt.step, img.ID)
				}
			}
		})
	}
}

// interruptTemplate has a probe that fails until its deadline, so that the probe script runs for
// seconds: long enough to be interrupted.
func interruptTemplate() string {
	return strings.Replace(cleanupTemplate(), cleanupProbes, cleanupProbes+`
    file {
      path    = "/nonexistent"
      timeout = "20s"
    }
`, 1)
}

// probeScriptRunning reports whether golden-validate's probe script is on the target.
func probeScriptRunning(t *testing.T, target *lab.TargetHost) bool {
	out, err := target.Run(t, "ls /tmp/golden-validate-*.sh 2>/dev/null | wc -l")
	return err == nil && strings.TrimSpace(out) != "0"
}

// interruptPacker sends SIGINT to the packer processes running in dir, as Ctrl-C does to the
// terminal's foreground processes: packer runs its work in a child of the process started, which
// ignores the signal itself.
func interruptPacker(t *testing.T, dir string) {
	entries, _ := os.ReadDir("/proc")
	sent := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || cwd != dir {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 1 && filepath.Base(args[0]) == "packer" && args[1] == "build" {
			if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
				t.Errorf("interrupting packer: %v", err)
			}
			sent++
		}
	}
	if sent == 0 {
		t.Errorf("no packer process runs in %s", dir)
	}
}

// TestValidateKeepOnFailure: with keep_on_failure, a failed validation keeps its instance and
// security group, writes the private key and says how to log in; the instance keeps its expiry,
// so a later sweep removes it. The key pair itself is deleted: the instance already has the key.
func TestValidateKeepOnFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	target := lab.Target(t)
	template := strings.Replace(cleanupTemplate(), cleanupProbes, cleanupProbes+`
    service {
      name = "nonexistent"
    }
    keep_on_failure = true
`, 1)
	var dir string
	res, sim := cleanupRun(t, target, template, nil, func(_ *ec2sim.Server, p *lab.PackerEnv, _ <-chan struct{}) { dir = p.Dir })
	if res.ExitCode == 0 {
		t.Fatalf("packer build passed a failing validation:\n%s", res.Output)
	}
	var kept []ec2sim.Instance
	for _, in := range sim.Instances(ebsRegion) {
		if in.State == "running" {
			kept = append(kept, in)
		}
	}
	if len(kept) != 1 || kept[0].Tags[goldentag.ExpiresAt] == "" || kept[0].Tags[goldentag.Temporary] != "true" {
		t.Fatalf("kept instances: %+v\n%s", kept, res.Output)
	}
	groups := 0
	for _, g := range sim.SecurityGroups(ebsRegion) {
		if g.Tags[goldentag.Temporary] == "true" {
			groups++
		}
	}
	if groups != 1 {
		t.Errorf("%d temporary security groups kept, want the instance's one", groups)
	}
	keys, _ := filepath.Glob(filepath.Join(dir, "golden-validate-*.pem"))
	if len(keys) != 1 {
		t.Fatalf("private keys written: %v\n%s", keys, res.Output)
	}
	if fi, err := os.Stat(keys[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file %s: %v, mode %v", keys[0], err, fi.Mode())
	}
	want := "keep_on_failure: keeping instance " + kept[0].ID + " for debugging: ssh -i " + keys[0] + " -p 22 " + target.User + "@" + target.Host
	if !strings.Contains(res.Output, want) {
		t.Errorf("output lacks %q:\n%s", want, res.Output)
	}
	login := *target
	login.KeyPath = keys[0]
	if out, err := login.Run(t, "id -un"); err != nil || strings.TrimSpace(out) != target.User {
		t.Errorf("logging in with the written key: %q, %v", out, err)
	}
}
