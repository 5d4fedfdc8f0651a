// Package validate benchmarks golden-validate's probe run on the Debian 12 lab target: 20 probes
// of every type rendered into one script and run over one SSH session, timed from the first
// request to the last verdict, the connection already open (issue point 5). Run it with
// `scripts/bench.sh validate`.
package validate

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/probe"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

var suite = benchrec.NewSuite("validate")

func TestMain(m *testing.M) { os.Exit(benchrec.Main(suite, func() int { return lab.Main(m) })) }

const group = "golden-validate probes on the Debian 12 target (point 5)"

func ptr[T any](v T) *T { return &v }

// twentyProbes pass on a fresh target: every probe type, the way a template lists them.
func twentyProbes(user string) []probe.Probe {
	return []probe.Probe{
		&probe.Service{Name: "ssh", Running: ptr(true), Enabled: ptr(true)},
		&probe.Service{Name: "telnet", Running: ptr(false)},
		&probe.Service{Name: "systemd-journald"},
		&probe.Package{Name: "openssh-server", Version: ">= 1:9.2"},
		&probe.Package{Name: "telnetd", Installed: ptr(false)},
		&probe.Package{Name: "sudo"},
		&probe.Port{Port: "tcp:22"},
		&probe.Port{Port: "tcp:23", Listening: ptr(false)},
		&probe.File{Path: "/etc/passwd", Mode: "0644", Owner: "root"},
		&probe.File{Path: "/etc/shadow", Group: "shadow"},
		&probe.File{Path: "/root/.bash_history", Exists: ptr(false)},
		&probe.Sysctl{Name: "net.ipv4.ip_forward", Value: "0"},
		&probe.Mount{Path: "/proc", Filesystem: "proc"},
		&probe.User{Name: user, Groups: []string{"sudo"}},
		&probe.User{Name: "ghost", Exists: ptr(false)},
		&probe.Group{Name: "sudo"},
		&probe.Process{Name: "sshd"},
		&probe.Command{Command: "id -u", Stdout: []string{"/^0$/"}},
		&probe.Command{Command: "test -d /etc/ssh"},
		&probe.IMDSv2{},
	}
}

func TestBenchmarkProbes(t *testing.T) {
	benchrec.Require(t)
	if benchrec.Quick() {
		// TestBenchmarkProbesBesideSeed times the same 20 probes in one session, beside the seed.
		suite.Assume("validate: bench-quick times the probes beside the seed's way only (make bench also times them on an open connection)")
		t.Skip("bench-quick: the probes are timed beside the seed's way")
	}
	suite.Assume("validate: 20 probes of every type on a fresh Debian 12 test target (systemd-nspawn container, test/target), " +
		"all passing; the SSH connection is open before the clock starts, and the run must use no other")
	h := lab.Target(t)
	probes := twentyProbes(h.User)
	if errs := probe.Validate(probes); len(errs) > 0 {
		t.Fatal(errs)
	}
	comm := h.Communicator(t)
	runner := &remote.Runner{Comm: comm, Sudo: true}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, _, _, err := runner.Exec(ctx, "true"); err != nil {
		t.Fatal(err)
	}
	for range benchrec.Runs() {
		started := time.Now()
		results, err := probe.Run(ctx, runner, probes, probe.RunOptions{Timeout: 10 * time.Second})
		took := time.Since(started)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if !r.Pass {
				t.Errorf("%s failed: %s", probe.ID(r.Probe), r.Message)
			}
		}
		suite.Row(group, "20 probes, one script, one session: beyond the connection", "s").AddDuration(took).Target("< 5 s", 5, true)
	}
	suite.Row(group, "SSH connections for all runs", "connections").Add(float64(comm.Connections())).Target("1", 1, true)
}
