// Package ansible benchmarks golden-harden against Ansible on identical fresh lab machines, one
// set per release (Debian 12 and Ubuntu 22.04): the `baseline` profile through packer against
// baseline.yml (the same settings, one Ansible task per setting as the seed's playbook writes them)
// through packer's official ansible provisioner, alternating which goes first run after run; then
// cis-level1-server alone; and the re-run of each. Both are whole `packer build` runs of the real
// packer binary. It counts the SSH logins and sessions each opened (sshd's journal on the machine,
// at LogLevel VERBOSE) and the changes each re-run reports. Run it with `scripts/bench.sh ansible`
// (root, the lab, `make bench-tools`).
package ansible

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchlab"
	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

var suite = benchrec.NewSuite("ansible")

func TestMain(m *testing.M) { os.Exit(benchrec.Main(suite, func() int { return lab.Main(m) })) }

// ansiblePluginVersion is what scripts/tools.sh builds into .tools/.
const ansiblePluginVersion = "v1.1.2"

// variant is the lab's cloud image of a release holding every package either side installs
// (test/target/target.sh image OS+ansible): lab.HardeningPackages, which golden-harden's profiles
// install, and python3-apt, which Ansible's apt module needs (it would install it from the mirror
// on its first run otherwise).
const variant = "+ansible"

// verbose makes sshd log a line per session (channel): the count of what each side opened.
const verbose = `echo 'LogLevel VERBOSE' | sudo tee /etc/ssh/sshd_config.d/00-bench-loglevel.conf >/dev/null && sudo systemctl reload ssh`

// ansibleOSes are the releases compared: GOLDEN_BENCH_ANSIBLE_OSES (comma separated) when set,
// else Debian 12 and Ubuntu 22.04 (the seed's release), or Debian 12 alone in bench-quick.
func ansibleOSes() []string {
	if v := os.Getenv("GOLDEN_BENCH_ANSIBLE_OSES"); v != "" {
		return strings.Split(v, ",")
	}
	if benchrec.Quick() {
		return []string{"debian-12"}
	}
	return []string{"debian-12", "ubuntu-22.04"}
}

// ansibleGroup is the table's group of release o's rows: "hardening vs Ansible, Debian 12 (point 2)".
func ansibleGroup(o string) string {
	name := o
	for _, r := range hardening.Releases(false) {
		if r.Lab == o {
			name = r.Name
		}
	}
	return "hardening vs Ansible, " + name + " (point 2)"
}

func TestBenchmarkAnsible(t *testing.T) {
	benchrec.Require(t)
	playbook, err := filepath.Abs("baseline.yml")
	if err != nil {
		t.Fatal(err)
	}
	ansibleBin := filepath.Join(lab.RepoRoot(t), ".tools", "packer-plugin-ansible")
	if _, err := os.Stat(ansibleBin); err != nil {
		t.Fatalf("the ansible provisioner plugin is not built (make bench-tools): %v", err)
	}
	oses := ansibleOSes()
	host := lab.Machines(t)
	for _, o := range oses {
		// Built once and cached by recipe (make bench-tools, make bench); never in a figure.
		lab.PrepareImages(t, host, o+variant)
	}
	version, _ := os.ReadFile(ansibleBin + ".version")
	suite.Assume("ansible: %s, every run on a fresh lab machine (internal/labmachine, booted like an EC2 instance: DHCP, cloud-init's "+
		"default user and the launch's key, the vendor's sshd) of the release's cloud image holding %s (test/target/target.sh image OS+ansible); "+
		"a round's machines (one per side) booted together before its first run, each waiting idle for its turn; "+
		"sshd at LogLevel VERBOSE (a drop-in written before the timed runs); golden-harden %q through packer's null builder over SSH; Ansible %s "+
		"through packer's ansible provisioner %s (its SSH proxy, file transfers over SFTP: one packer connection, Ansible's commands and transfers "+
		"as sessions on it); both whole `packer build` runs, the two sides alternating which goes first; the goals are golden-harden's, "+
		"Ansible's rows are what it is compared with", strings.Join(oses, ", "),
		strings.Join(append(append([]string(nil), lab.HardeningPackages...), "python3-apt"), " "), "baseline", ansibleVersion(), strings.TrimSpace(string(version)))
	suite.Assume("ansible: " + benchlab.PackerState)
	suite.Assume("ansible: apt's package lists marked fresh before the clock starts: baseline.yml's apt task (%q), which refreshes "+
		"them when older than an hour, checks the installed packages and fetches nothing, whatever the cached image's age (checked: "+
		"no list on the machine after the run); every task's time from the profile_tasks callback (output limit all)", aptTaskName)
	modules := map[string][]map[string]int64{}
	for run := range benchrec.Runs() {
		for _, o := range oses {
			group := ansibleGroup(o)
			t.Run(fmt.Sprintf("%s-%d", o, run), func(t *testing.T) {
				// Every machine of this round boots before the first clock starts, all at once:
				// the other machines wait idle while one side is measured.
				n := 3
				if benchrec.Quick() {
					n = 2
				}
				machines := lab.MachinesAtOnce(t, o+variant, n)
				sides := []func(){
					func() {
						t.Run("golden", func(t *testing.T) {
							h := prepared(t, machines[0])
							first, rerun := hardenTwice(t, h, "baseline")
							modules[o] = append(modules[o], benchlab.ModuleTimes(first.run.Report))
							first.record(group, "golden-harden baseline", false)
							rerun.record(group, "golden-harden baseline", true)
						})
					},
					func() {
						t.Run("ansible", func(t *testing.T) {
							h := prepared(t, machines[1])
							p := ansiblePacker(t, ansibleBin)
							template := p.WriteFile(t, "ansible.pkr.hcl", ansibleTemplate(playbook))
							first := measure(t, h, func() side { return ansibleRun(t, p, h, template) })
							noListsFetched(t, h)
							first.record(group, "Ansible baseline.yml", false)
							if !benchrec.Quick() {
								rerun := measure(t, h, func() side { return ansibleRun(t, p, h, template) })
								noListsFetched(t, h)
								rerun.record(group, "Ansible baseline.yml", true)
							}
						})
					},
				}
				if run%2 == 1 {
					sides[0], sides[1] = sides[1], sides[0]
				}
				for _, s := range sides {
					s()
				}
				if benchrec.Quick() {
					return
				}
				t.Run("cis", func(t *testing.T) {
					h := prepared(t, machines[2])
					first, rerun := hardenTwice(t, h, "cis-level1-server")
					first.record(group, "golden-harden cis-level1-server", false)
					rerun.record(group, "golden-harden cis-level1-server", true)
				})
			})
		}
	}
	for _, o := range oses {
		group := ansibleGroup(o)
		g := suite.Row(group, "golden-harden baseline: whole packer build", "s")
		g.Note = "slowest: " + benchlab.Slowest(modules[o], 5)
		suite.Detail("golden_baseline_module_ms_"+o, modules[o])
		a := suite.Row(group, "Ansible baseline.yml: whole packer build", "s")
		suite.Ratio(group, "Ansible / golden-harden, first run", a, g).Target(">= 10x", 10, false)
		if benchrec.Quick() {
			continue
		}
		suite.Ratio(group, "Ansible / golden-harden, re-run", suite.Row(group, "Ansible baseline.yml: re-run, whole packer build", "s"),
			suite.Row(group, "golden-harden baseline: re-run, whole packer build", "s"))
	}
	if benchrec.Quick() {
		// Ansible's re-run takes as long as its first run, most of bench-quick's time on its own.
		suite.Assume("ansible: bench-quick compares on Debian 12 only and leaves out Ansible's re-run, and cis-level1-server alone, " +
			"which the harden suite times (first run and re-run) on a Debian 12 lab machine (make bench times both here, on every release compared)")
	}
}

// freshLists makes apt's package lists count as refreshed now: baseline.yml's apt task refreshes
// them from the mirror when they are older than an hour (cache_valid_time, as the seed's playbook
// asks), and their age is otherwise the cached image's, so that the same bench would time the
// mirror or not depending on when the image was built. Apt's lists folder is what Ansible's apt
// module reads that age from when there is no update-success stamp (the lab's images have none).
const freshLists = `sudo rm -f /var/lib/apt/periodic/update-success-stamp && sudo touch /var/lib/apt/lists`

// prepared boots a fresh lab machine of o's comparison image with sshd logging every session.
func prepared(t *testing.T, m *lab.MachineHost) *lab.TargetHost {
	t.Helper()
	h := m.TargetHost
	h.MustRun(t, freshLists)
	h.MustRun(t, verbose)
	// sshd re-executes itself on the reload: wait until it answers again.
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := h.Run(t, "true")
		if err == nil {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not answer after its reload: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// noListsFetched fails the test when apt fetched package lists on the machine: the run would
// have timed the mirror (the image holds none, and freshLists keeps Ansible from fetching them).
func noListsFetched(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	if lists := benchlab.ParseApt(h.MustRun(t, benchlab.AptCommand)).Lists; lists > 0 {
		t.Errorf("ansible: the run fetched %d package list(s) from the mirror: its time is the mirror's", lists)
	}
}

// side is one timed run and what it did on the machine.
type side struct {
	wall    time.Duration
	changes int
	ssh     benchlab.SSHCounts
	run     benchlab.HardenRun // golden-harden's only
	note    string
	// aptTask is Ansible's package task, from the profile_tasks callback's summary.
	aptTask time.Duration
}

// record adds s to the table; the re-run's goals (under 3 s, no change) are golden-harden's, so
// the rows of Ansible, what it is compared with, carry none.
func (s side) record(group, name string, rerun bool) {
	label := name + ": "
	if rerun {
		label += "re-run, "
	}
	goals := rerun && s.run.Report != nil
	w := suite.Row(group, label+"whole packer build", "s").AddDuration(s.wall)
	if goals {
		w.Target("< 3 s", 3, true)
	}
	suite.Row(group, label+"SSH sessions", "sessions").Add(float64(s.ssh.Sessions)).Note = fmt.Sprintf("%d login(s)", s.ssh.Logins)
	c := suite.Row(group, label+"changes reported", "changes").Add(float64(s.changes))
	if goals {
		c.Target("0", 0, true)
	}
	if s.note != "" {
		w.Note = s.note
	}
	if !rerun && s.run.Report != nil {
		f := suite.Row(group, label+"controls left failed", "changes").Add(float64(len(s.run.Failed))).Target("0", 0, true)
		if len(s.run.Failed) > 0 {
			f.Note = strings.Join(s.run.Failed, ", ")
		}
	}
	if s.aptTask > 0 {
		suite.Row(group, label+"of which the apt task", "s").AddDuration(s.aptTask).Note = "the packages checked, nothing fetched (lists fresh)"
	}
}

// measure runs f and counts the SSH logins and sessions the machine's sshd logged meanwhile (less
// the one login and session that read the journal each time).
func measure(t *testing.T, h *lab.TargetHost, f func() side) side {
	t.Helper()
	before := benchlab.CountSSH(h.MustRun(t, benchlab.SSHJournalCommand))
	s := f()
	after := benchlab.CountSSH(h.MustRun(t, benchlab.SSHJournalCommand))
	s.ssh = benchlab.SSHCounts{Logins: after.Logins - before.Logins - 1, Sessions: after.Sessions - before.Sessions - 1}
	return s
}

func hardenTwice(t *testing.T, h *lab.TargetHost, profile string) (first, rerun side) {
	t.Helper()
	p := lab.Packer(t)
	for i, s := range []*side{&first, &rerun} {
		*s = measure(t, h, func() side {
			r := benchlab.Harden(t, p, h.PackerVars(), profile, fmt.Sprintf("%s-%d", profile, i), "")
			return side{wall: r.Wall, changes: r.Changes(), run: r}
		})
	}
	return first, rerun
}

// ansiblePacker is a packer environment whose plugin folder holds only the official ansible
// provisioner (the golden side's holds only this plugin).
func ansiblePacker(t *testing.T, bin string) *lab.PackerEnv {
	t.Helper()
	p := lab.Packer(t)
	p.Setenv("PACKER_PLUGIN_PATH", filepath.Join(p.Dir, "..", "ansible-plugins"))
	if res := p.Run(t, "plugins", "install", "--path", bin, "github.com/hashicorp/ansible"); res.ExitCode != 0 {
		t.Fatalf("installing the ansible plugin:\n%s", res.Output)
	}
	return p
}

func ansibleTemplate(playbook string) string {
	return `packer {
  required_plugins {
    ansible = {
      source  = "github.com/hashicorp/ansible"
      version = ">= 1.1.2"
    }
  }
}

variable "host" { type = string }
variable "port" { type = number }
variable "user" { type = string }
variable "key"  { type = string }

source "null" "target" {
  communicator         = "ssh"
  ssh_host             = var.host
  ssh_port             = var.port
  ssh_username         = var.user
  ssh_private_key_file = var.key
  ssh_timeout          = "2m"
}

build {
  sources = ["source.null.target"]

  provisioner "ansible" {
    playbook_file    = "` + playbook + `"
    user             = var.user
    use_sftp         = true
    ansible_env_vars = ["ANSIBLE_HOST_KEY_CHECKING=False", "ANSIBLE_NOCOLOR=True", "ANSIBLE_CALLBACKS_ENABLED=profile_tasks", "PROFILE_TASKS_TASK_OUTPUT_LIMIT=all"]
  }
}
`
}

var (
	recapLine = regexp.MustCompile(`ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)
	taskTime  = regexp.MustCompile(`^\s*(?:[^:]*: )?(.+?) -{3,} (\d+\.\d+)s\s*$`)
)

func ansibleRun(t *testing.T, p *lab.PackerEnv, h *lab.TargetHost, template string) side {
	t.Helper()
	started := time.Now()
	res := p.Run(t, append(append([]string{"build", "-color=false"}, h.PackerVars()...), template)...)
	wall := time.Since(started)
	if res.ExitCode != 0 {
		t.Fatalf("ansible: packer build failed:\n%s", res.Output)
	}
	m := recapLine.FindStringSubmatch(res.Output)
	if m == nil {
		t.Fatalf("ansible: no PLAY RECAP in packer's output:\n%s", res.Output)
	}
	if m[3] != "0" || m[4] != "0" {
		t.Fatalf("ansible: unreachable=%s failed=%s:\n%s", m[3], m[4], res.Output)
	}
	changed, _ := strconv.Atoi(m[2])
	note := "slowest tasks: " + slowestTasks(res.Output, 3)
	if tasks := changedTasks(res.Output); changed > 0 && len(tasks) < 5 {
		note = "changed: " + strings.Join(tasks, ", ") + "; " + note
	}
	apt, ok := taskDuration(res.Output, aptTaskName)
	if !ok {
		t.Errorf("ansible: no time for the task %q in the profile_tasks summary:\n%s", aptTaskName, res.Output)
	}
	return side{wall: wall, changes: changed, note: note, aptTask: apt}
}

// changedTasks names the tasks and handlers that reported a change, in order.
func changedTasks(out string) []string {
	var tasks []string
	current := ""
	for _, line := range strings.Split(out, "\n") {
		for _, marker := range []string{"TASK [", "RUNNING HANDLER ["} {
			if _, rest, ok := strings.Cut(line, marker); ok {
				current, _, _ = strings.Cut(rest, "] ")
			}
		}
		if strings.Contains(line, "changed: [") && (len(tasks) == 0 || tasks[len(tasks)-1] != current) {
			tasks = append(tasks, current)
		}
	}
	return tasks
}

// aptTaskName is baseline.yml's package task.
const aptTaskName = "Install the essential packages"

// taskDuration is one task's time in the profile_tasks callback's summary (every task: its
// output limit is "all"), and whether the summary has it.
func taskDuration(out, task string) (time.Duration, bool) {
	for _, line := range strings.Split(out, "\n") {
		if m := taskTime.FindStringSubmatch(line); m != nil && strings.TrimSpace(m[1]) == task {
			s, _ := strconv.ParseFloat(m[2], 64)
			return time.Duration(s * float64(time.Second)), true
		}
	}
	return 0, false
}

// slowestTasks reads the profile_tasks callback's summary (slowest first).
func slowestTasks(out string, n int) string {
	var parts []string
	for _, line := range strings.Split(out, "\n") {
		if m := taskTime.FindStringSubmatch(line); m != nil && len(parts) < n {
			parts = append(parts, fmt.Sprintf("%s %ss", strings.TrimSpace(m[1]), m[2]))
		}
	}
	return strings.Join(parts, ", ")
}

func ansibleVersion() string {
	out, err := exec.Command("ansible-playbook", "--version").Output()
	if err != nil {
		return "(ansible-playbook not found)"
	}
	return strings.SplitN(string(out), "\n", 2)[0]
}
