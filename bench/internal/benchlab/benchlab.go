// Package benchlab is what the benchmarks that drive the real packer binary share: a golden-harden
// run (whole `packer build` wall time, the report it writes, its per-module timings), and the
// counters read from the machine afterwards (sshd's logins and sessions, the apt proxy's requests).
package benchlab

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// HardenRun is one `packer build` of golden-harden.
type HardenRun struct {
	// Wall is the whole packer build: packer's start-up, the plugin's, SSH, the run, the report.
	Wall   time.Duration
	Report *report.Report
	// Apply is golden-harden's own time, from the first upload to the last result.
	Apply time.Duration
	// Script is the rendered script's run on the machine.
	Script time.Duration
	// CPU is the script's CPU time on the machine (its shell and every process it waited for),
	// MachineCPU the machine's (daemons systemd started included; -1 unknown), Processes the
	// processes the machine started (-1 unknown): work, which the host's load does not inflate.
	CPU, MachineCPU time.Duration
	Processes       int64
	// Failed names the controls the run left failed (the benchmark measures time: a failed control
	// does not fail the build, fail_below is 0; the suites report them).
	Failed []string
}

// Changes is how many controls the run fixed: zero on a re-run of an idempotent profile.
func (h HardenRun) Changes() int { return h.Report.After.Fixed }

// Harden runs `packer build` of golden-harden with profile over SSH (vars: the template's
// host/port/user/key variables), fails the test if the build fails, and returns its figures.
// extra is HCL added inside the provisioner block. A control left failed does not fail the build
// (fail_below = 0): the run's time is what the benchmark is for, and the result lists them.
func Harden(t *testing.T, p *lab.PackerEnv, vars []string, profile, name, extra string) HardenRun {
	t.Helper()
	reportFile := filepath.Join(p.Dir, name+".json")
	template := p.WriteFile(t, name+".pkr.hcl", lab.NullSSHTemplate(fmt.Sprintf(`  provisioner "golden-harden" {
    profile    = %q
    report     = %q
    fail_below = 0
%s  }`, profile, reportFile, extra)))
	started := time.Now()
	res := p.Run(t, append(append([]string{"build", "-color=false"}, vars...), template)...)
	wall := time.Since(started)
	if res.ExitCode != 0 {
		t.Fatalf("%s: packer build failed:\n%s", name, res.Output)
	}
	b, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := strconv.ParseInt(r.Property("script_ms"), 10, 64)
	run := HardenRun{Wall: wall, Report: r, Apply: time.Duration(r.DurationMS) * time.Millisecond,
		Script: time.Duration(script) * time.Millisecond}
	cpu, _ := strconv.ParseInt(r.Property("script_cpu_ms"), 10, 64)
	run.CPU = time.Duration(cpu) * time.Millisecond
	run.MachineCPU, run.Processes = -1, -1
	if v, err := strconv.ParseInt(r.Property("machine_cpu_ms"), 10, 64); err == nil {
		run.MachineCPU = time.Duration(v) * time.Millisecond
	}
	if v, err := strconv.ParseInt(r.Property("processes"), 10, 64); err == nil {
		run.Processes = v
	}
	for _, it := range r.Items {
		if it.Status == report.StatusFailed {
			run.Failed = append(run.Failed, it.ID)
		}
	}
	return run
}

// ModuleTimes are golden-harden's timings by phase ("module ssh", "finalize ssh"...), in ms.
func ModuleTimes(r *report.Report) map[string]int64 {
	out := map[string]int64{}
	for _, tm := range r.Timings {
		out[tm.Name] += tm.DurationMS
	}
	return out
}

// ModuleCPU is golden-harden's CPU time per module ("module ssh"...), in ms: the machine's when
// the target tells it (daemons that systemd started for the module included), else the script's.
func ModuleCPU(r *report.Report) map[string]int64 {
	out := map[string]int64{}
	for _, tm := range r.Timings {
		if !strings.HasPrefix(tm.Name, "module ") {
			continue
		}
		if tm.MachineCPUMS > 0 {
			out[tm.Name] += tm.MachineCPUMS
		} else {
			out[tm.Name] += tm.CPUMS
		}
	}
	return out
}

// Slowest names the n slowest phases of timings with their median over the runs, slowest first.
func Slowest(runs []map[string]int64, n int) string {
	names := map[string][]float64{}
	for _, r := range runs {
		for k, v := range r {
			names[k] = append(names[k], float64(v))
		}
	}
	type phase struct {
		name   string
		median float64
	}
	var phases []phase
	for k, v := range names {
		sort.Float64s(v)
		phases = append(phases, phase{k, v[len(v)/2]})
	}
	sort.Slice(phases, func(i, j int) bool { return phases[i].median > phases[j].median })
	var parts []string
	for i, ph := range phases {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0fms", strings.TrimPrefix(ph.name, "module "), ph.median))
	}
	return strings.Join(parts, ", ")
}

// SSHCounts are sshd's log lines of one stretch of time on a machine.
type SSHCounts struct {
	// Logins are accepted authentications (one per SSH connection).
	Logins int
	// Sessions are the channels that ran something: commands, shells and subsystems (sftp, scp).
	Sessions int
}

var (
	loginLine   = regexp.MustCompile(`Accepted (publickey|password|keyboard-interactive)`)
	sessionLine = regexp.MustCompile(`Starting session: `)
)

// CountSSH counts logins and sessions in sshd's journal output (LogLevel VERBOSE logs a
// "Starting session" line per channel).
func CountSSH(journal string) SSHCounts {
	var c SSHCounts
	for _, line := range strings.Split(journal, "\n") {
		if loginLine.MatchString(line) {
			c.Logins++
		}
		if sessionLine.MatchString(line) {
			c.Sessions++
		}
	}
	return c
}

// SSHJournalCommand prints sshd's journal of the current boot, on any of the lab's systems.
const SSHJournalCommand = `sudo journalctl -q -b -o cat _COMM=sshd _COMM=sshd-session 2>/dev/null || true`

// AptCommand prints what apt did on a machine so far: the transactions in apt's history (installs,
// removals) and the package lists fetched (none in a lab image, until an apt-get update).
const AptCommand = `printf '%s %s\n' "$(grep -c '^Start-Date' /var/log/apt/history.log 2>/dev/null || echo 0)" ` +
	`"$(ls /var/lib/apt/lists 2>/dev/null | grep -c '_Packages' || true)"`

// AptState is AptCommand's answer.
type AptState struct{ Transactions, Lists int }

// ParseApt reads AptCommand's output.
func ParseApt(out string) AptState {
	var a AptState
	fmt.Sscan(strings.TrimSpace(out), &a.Transactions, &a.Lists)
	return a
}

// PackerState is what every timed `packer build` of the harden and ansible suites starts from:
// the plugins are in place before the clock starts, packer's own folders are empty.
const PackerState = "packer: this plugin built once from the working tree as a release is (-trimpath, -s -w) and installed with `packer plugins install --path` " +
	"(the ansible provisioner from its local build) before the clock starts, nothing downloaded; a PACKER_CONFIG_DIR and PACKER_CACHE_DIR of " +
	"the machine's own, empty before its first run (a cold packer cache), so packer's start-up and plugin discovery are in each figure"
