package harden

// golden-harden's cis-level1-server on every supported release, each a lab machine booted the way
// EC2 boots the vendor's image (internal/labmachine: DHCP, cloud-init's default user, the vendor's
// sshd and time daemon), through the real packer binary: the first run and the re-run against the
// golden-harden issue's goals (applies in under 10 s, re-runs in under 3 s, per OS).

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchlab"
	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

const machinesGroup = "cis-level1-server on lab machines, per OS (issue 11, point 5)"

// variant is the lab's cloud image of a release with lab.HardeningPackages already installed
// (test/target/target.sh image OS+hardening): golden-harden installs nothing during the run, so
// its time is not the mirror's.
const variant = "+hardening"

// The golden-harden issue's goals for the full cis-level1-server profile, golden-harden's own time.
const (
	machineApplyGoal = 10.0
	machineRerunGoal = 3.0
)

// machineOSes are the releases the bench hardens: GOLDEN_BENCH_OSES (comma separated) when set,
// else every release golden-harden supports, or Debian 12 alone in bench-quick.
func machineOSes() []string {
	if v := os.Getenv("GOLDEN_BENCH_OSES"); v != "" {
		return strings.Split(v, ",")
	}
	if benchrec.Quick() {
		return []string{"debian-12"}
	}
	var out []string
	for _, r := range hardening.Releases(false) {
		out = append(out, r.Lab)
	}
	return out
}

func TestBenchmarkHardenMachines(t *testing.T) {
	benchrec.Require(t)
	oses := machineOSes()
	host := lab.Machines(t)
	for _, o := range oses {
		// Built once and cached by recipe (make bench-tools, make bench); never in a figure.
		lab.PrepareImages(t, host, o+variant)
	}
	suite.Assume("harden machines: %s, each run on a fresh lab machine (internal/labmachine, booted like an EC2 instance: DHCP, "+
		"cloud-init's default user and the launch's key, the vendor's sshd) of the release's cloud image with these packages installed "+
		"beforehand (test/target/target.sh image OS+hardening): %s (on Ubuntu 22.04 and 24.04 chrony replaces systemd-timesyncd); "+
		"the goals are golden-harden's own time (apply), the whole packer build beside it; apt transactions and package lists are "+
		"counted on the machine before and after the first run", strings.Join(oses, ", "), strings.Join(lab.HardeningPackages, " "))
	if benchrec.Quick() && os.Getenv("GOLDEN_BENCH_OSES") == "" {
		suite.Assume("harden machines: bench-quick hardens Debian 12 only (make bench: every supported release)")
	}
	modules := map[string][]map[string]int64{}
	for run := range benchrec.Runs() {
		for _, o := range oses {
			t.Run(fmt.Sprintf("%s-%d", o, run), func(t *testing.T) {
				m := lab.Machine(t, o+variant)
				p := lab.Packer(t)
				before := benchlab.ParseApt(m.MustRun(t, benchlab.AptCommand))
				first := benchlab.Harden(t, p, m.PackerVars(), "cis-level1-server", "apply", "")
				after := benchlab.ParseApt(m.MustRun(t, benchlab.AptCommand))
				rerun := benchlab.Harden(t, p, m.PackerVars(), "cis-level1-server", "rerun", "")
				modules[o] = append(modules[o], benchlab.ModuleTimes(first.Report))
				recordMachine(o, first, rerun, benchlab.AptState{Transactions: after.Transactions - before.Transactions, Lists: after.Lists - before.Lists})
			})
		}
	}
	for _, o := range oses {
		suite.Row(machinesGroup, o+": cis-level1-server apply", "s").Note = "slowest: " + benchlab.Slowest(modules[o], 4)
		suite.Detail("machine_module_ms_"+o, modules[o])
	}
}

func recordMachine(o string, first, rerun benchlab.HardenRun, apt benchlab.AptState) {
	p := o + ": cis-level1-server "
	suite.Row(machinesGroup, p+"apply", "s").AddDuration(first.Apply).Target(fmt.Sprintf("< %g s", machineApplyGoal), machineApplyGoal, true)
	suite.Row(machinesGroup, p+"whole packer build", "s").AddDuration(first.Wall)
	suite.Row(machinesGroup, p+"re-run, apply", "s").AddDuration(rerun.Apply).Target(fmt.Sprintf("< %g s", machineRerunGoal), machineRerunGoal, true)
	suite.Row(machinesGroup, p+"re-run, whole packer build", "s").AddDuration(rerun.Wall)
	suite.Row(machinesGroup, p+"re-run, changes", "changes").Add(float64(rerun.Changes())).Target("0", 0, true)
	suite.Row(machinesGroup, p+"apt transactions during the run", "requests").Add(float64(apt.Transactions+apt.Lists)).Target("0", 0, true)
	failed := suite.Row(machinesGroup, p+"controls left failed", "changes").Add(float64(len(first.Failed))).Target("0", 0, true)
	if len(first.Failed) > 0 {
		failed.Note = strings.Join(first.Failed, ", ")
	}
}
