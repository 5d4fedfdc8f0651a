package validate

// golden-validate's probe run (internal/probe: one rendered script uploaded and run once over the
// SDK's SSH communicator) with 20 probes, beside the seed's validation script's way
// (validate-ami.sh: one `ssh host COMMAND` per check, each a new connection), on the same fresh
// Debian 12 target, alternating, connection included.

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchlab"
	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/probe"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// check is one of the 20 checks, as a probe and as the seed script's command.
type check struct {
	probe   probe.Probe
	command string
}

// checks all pass on a fresh target of the lab's hardening image: a failing probe would be asked
// again until its deadline, and the benchmark would time the deadline.
var checks = []check{
	{&probe.Service{Name: "ssh", Running: ptr(true), Enabled: ptr(true)}, "systemctl is-active ssh && systemctl is-enabled ssh"},
	{&probe.Service{Name: "telnet", Running: ptr(false)}, "! systemctl is-active telnet"},
	{&probe.Service{Name: "systemd-journald", Running: ptr(true)}, "systemctl is-active systemd-journald"},
	{&probe.Package{Name: "openssh-server"}, "dpkg -s openssh-server"},
	{&probe.Package{Name: "telnetd", Installed: ptr(false)}, "! dpkg -s telnetd"},
	{&probe.Package{Name: "telnet", Installed: ptr(false)}, "! dpkg -s telnet"},
	{&probe.Package{Name: "ufw"}, "dpkg -s ufw"},
	{&probe.Package{Name: "auditd"}, "dpkg -s auditd"},
	{&probe.Package{Name: "fail2ban"}, "dpkg -s fail2ban"},
	{&probe.Package{Name: "chrony"}, "dpkg -s chrony"},
	{&probe.Package{Name: "sudo"}, "dpkg -s sudo"},
	{&probe.Port{Port: "tcp:22", Addresses: []string{"0.0.0.0"}}, "ss -Hltn | grep -q '^LISTEN .* 0.0.0.0:22 '"},
	{&probe.Port{Port: "tcp:23", Listening: ptr(false)}, "! ss -Hltn | grep -q ':23 '"},
	{&probe.File{Path: "/etc/shadow", Mode: "0640", Group: "shadow"}, `test "$(sudo stat -c '%a %G' /etc/shadow)" = "640 shadow"`},
	{&probe.File{Path: "/etc/passwd", Mode: "0644", Owner: "root"}, `test "$(stat -c '%a %U' /etc/passwd)" = "644 root"`},
	{&probe.File{Path: "/root/.bash_history", Exists: ptr(false)}, "sudo test ! -e /root/.bash_history"},
	{&probe.File{Path: "/etc/ssh/sshd_config", Filetype: "file"}, "test -f /etc/ssh/sshd_config"},
	{&probe.File{Path: "/etc/hostname", Exists: ptr(true)}, "test -e /etc/hostname"},
	{&probe.Sysctl{Name: "net.ipv4.ip_forward", Value: "0"}, `test "$(/sbin/sysctl -n net.ipv4.ip_forward)" = 0`},
	{&probe.Sysctl{Name: "kernel.randomize_va_space", Value: "2"}, `test "$(/sbin/sysctl -n kernel.randomize_va_space)" = 2`},
}

const seedGroup = "golden-validate beside the seed's ssh per check (point 5)"

func TestBenchmarkProbesBesideSeed(t *testing.T) {
	benchrec.Require(t)
	suite.Assume("validate: %d checks on a fresh Debian 12 test target of the hardening image, sshd at LogLevel VERBOSE; golden-validate's "+
		"probe.Run over the SDK's SSH communicator as the build user with sudo (in-process, no packer); the seed's way is OpenSSH's ssh "+
		"client once per check, a new connection each; connection = one SSH login running `true`", len(checks))
	var probes []probe.Probe
	for _, c := range checks {
		probes = append(probes, c.probe)
	}
	if errs := probe.Validate(probes); len(errs) > 0 {
		t.Fatalf("invalid probes: %v", errs)
	}
	for run := range benchrec.Runs() {
		t.Run(strconv.Itoa(run), func(t *testing.T) {
			h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
			h.MustRun(t, `echo 'LogLevel VERBOSE' | sudo tee /etc/ssh/sshd_config.d/00-bench-loglevel.conf >/dev/null && sudo systemctl reload ssh`)
			waitSSH(t, h)
			sides := []func(){func() { golden(t, h, probes) }, func() { seed(t, h) }}
			if run%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, s := range sides {
				s()
			}
			started := time.Now()
			sshCommand(t, h, "true")
			suite.Row(seedGroup, "one SSH connection running `true`", "s").AddDuration(time.Since(started))
		})
	}
	g := suite.Row(seedGroup, "golden-validate, 20 probes: wall", "s")
	c := suite.Row(seedGroup, "one SSH connection running `true`", "s")
	beyond := suite.Row(seedGroup, "golden-validate, 20 probes: beyond one connection", "s")
	beyond.Values = nil
	for i := range min(len(g.Values), len(c.Values)) {
		beyond.Add(g.Values[i] - c.Values[i])
	}
	beyond.Target("< 5 s", 5, true)
	suite.Ratio(seedGroup, "seed's ssh per check / golden-validate", suite.Row(seedGroup, "seed's way, 20 ssh commands: wall", "s"), g)
}

func golden(t *testing.T, h *lab.TargetHost, probes []probe.Probe) {
	t.Helper()
	before := benchlab.CountSSH(h.MustRun(t, benchlab.SSHJournalCommand))
	started := time.Now()
	comm := h.Communicator(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := probe.Run(ctx, &remote.Runner{Comm: comm, Sudo: true}, probes, probe.RunOptions{Timeout: 30 * time.Second, Interval: time.Second})
	took := time.Since(started)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.Pass {
			t.Errorf("probe %s failed: %s", probe.ID(r.Probe), r.Message)
		}
	}
	after := benchlab.CountSSH(h.MustRun(t, benchlab.SSHJournalCommand))
	suite.Row(seedGroup, "golden-validate, 20 probes: wall", "s").AddDuration(took)
	suite.Row(seedGroup, "golden-validate, 20 probes: SSH sessions", "sessions").Add(float64(after.Sessions - before.Sessions - 1)).Note =
		fmt.Sprintf("%d login(s)", after.Logins-before.Logins-1)
}

func seed(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	before := benchlab.CountSSH(h.MustRun(t, benchlab.SSHJournalCommand))
	started := time.Now()
	for _, c := range checks {
		sshCommand(t, h, c.command)
	}
	took := time.Since(started)
	after := benchlab.CountSSH(h.MustRun(t, benchlab.SSHJournalCommand))
	suite.Row(seedGroup, "seed's way, 20 ssh commands: wall", "s").AddDuration(took)
	suite.Row(seedGroup, "seed's way, 20 ssh commands: SSH sessions", "sessions").Add(float64(after.Sessions - before.Sessions - 1)).Note =
		fmt.Sprintf("%d login(s)", after.Logins-before.Logins-1)
}

// sshCommand runs command on the target with OpenSSH's client, a new connection, as the seed's
// validate-ami.sh does for each of its checks.
func sshCommand(t *testing.T, h *lab.TargetHost, command string) {
	t.Helper()
	out, err := exec.Command("ssh", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile="+h.KnownHostsPath, "-o", "ConnectTimeout=10",
		"-i", h.KeyPath, "-p", strconv.Itoa(h.Port), h.User+"@"+h.Host, command).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh %q: %v\n%s", command, err, out)
	}
}

// waitSSH waits until sshd answers again after its reload.
func waitSSH(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := h.Run(t, "true")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not answer after its reload: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
