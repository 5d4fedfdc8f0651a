// Package machines benchmarks the lab's machines (internal/labmachine) against the budgets of the
// lab as a small EC2: a machine from a cached image answers SSH in under 15 s, four boot at once,
// and capturing a 1 GiB disk takes under 10 s. It prints one table. Run it with
// GOLDEN_BENCH=1 go test -count=1 -v ./bench/machines (as root, like the lab's tests).
package machines

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine/imdstest"
)

const sshTimeout = 5 * time.Minute

const group = "lab machines"

var suite = benchrec.NewSuite("machines")

func TestMain(m *testing.M) { os.Exit(benchrec.Main(suite, m.Run)) }

func TestBenchmarkMachines(t *testing.T) {
	benchrec.Require(t)
	suite.Assume("machines: cloud images cached (prepared before the first boot, not timed); boot to SSH is from Boot to the first " +
		"SSH login as the vendor's default user with the key cloud-init took from the metadata service")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	host, err := labmachine.New(labmachine.Options{RepoRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	imds := imdstest.Start(t)
	ctx := context.Background()
	bases := []string{"debian-12", "ubuntu-22.04", "ubuntu-24.04"}
	for _, b := range bases {
		if err := host.PrepareImage(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for range benchrec.Runs() {
		// One machine per base image, alone: Boot to SSH as the default user.
		for _, b := range bases {
			m, c, took, err := bootToSSH(host, imds, b)
			if err != nil {
				t.Fatal(err)
			}
			row := suite.Row(group, "boot to SSH, "+b, "s").AddDuration(took).Target("< 15 s", 15, true)
			row.Note = "load " + benchrec.LoadAverage() + " (last run)"
			if b == "ubuntu-22.04" {
				row := suite.Row(group, "capture of a running machine's 1 GiB disk", "s").AddDuration(capture(t, m, c)).Target("< 10 s", 10, true)
				row.Note = "load " + benchrec.LoadAverage() + " (last run)"
			}
			c.Close()
			if err := m.Terminate(ctx); err != nil {
				t.Fatal(err)
			}
		}

		// Four at once: all four run (and answer SSH) before any is terminated. The goroutines
		// only report; the test fails from its own goroutine.
		started := time.Now()
		type booted struct {
			m    *labmachine.Machine
			took time.Duration
			err  error
		}
		results := make(chan booted, 4)
		for range 4 {
			go func() {
				m, c, took, err := bootToSSH(host, imds, "debian-12")
				if c != nil {
					c.Close()
				}
				results <- booted{m, took, err}
			}()
		}
		var slowest time.Duration
		var machines []*labmachine.Machine
		var errs []error
		for range 4 {
			r := <-results
			if r.m != nil {
				machines = append(machines, r.m)
			}
			if r.err != nil {
				errs = append(errs, r.err)
			}
			slowest = max(slowest, r.took)
		}
		all := time.Since(started)
		load := benchrec.LoadAverage()
		for _, m := range machines {
			if err := m.Terminate(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		suite.Row(group, "4 debian-12 machines at once, all SSH", "s").AddDuration(all).Note =
			fmt.Sprintf("slowest %.1fs, load %s (last run)", slowest.Seconds(), load)
	}
}

var ids = time.Now().UnixNano()
var idsMu sync.Mutex

// bootToSSH boots a machine of base and logs in; it returns the machine (also when the login
// failed), the client and the time it took. It may run in any goroutine.
func bootToSSH(host *labmachine.Host, imds *imdstest.Server, base string) (*labmachine.Machine, *ssh.Client, time.Duration, error) {
	idsMu.Lock()
	ids++
	id := fmt.Sprintf("i-%017x", ids)
	idsMu.Unlock()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, 0, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, 0, err
	}
	started := time.Now()
	m, err := host.Boot(context.Background(), ec2sim.MachineSpec{
		InstanceID: id, Region: "eu-west-1", Base: base, IMDSAddress: imds.Addr,
		Ingress: []ec2sim.IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{labmachine.CallerCIDR()}}},
	})
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", base, err)
	}
	lm := m.(*labmachine.Machine)
	imds.Add(lm.Address(), imdstest.Instance{ID: id, Region: "eu-west-1", MAC: lm.MAC(),
		PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))})
	deadline := time.Now().Add(sshTimeout)
	for {
		if c, err := ssh.Dial("tcp", net.JoinHostPort(lm.Address(), "22"), &ssh.ClientConfig{
			User: lm.User(), Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 2 * time.Second,
		}); err == nil {
			return lm, c, time.Since(started), nil
		}
		if time.Now().After(deadline) {
			return lm, nil, 0, fmt.Errorf("%s: no SSH within %s", base, sshTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// capture writes 1 GiB onto the machine's disk (random data: nothing for a copy to skip) and
// times CaptureDisk of the running machine.
func capture(t *testing.T, m *labmachine.Machine, c *ssh.Client) time.Duration {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if out, err := s.CombinedOutput("sudo dd if=/dev/urandom of=/var/tmp/gib bs=1M count=1024 status=none && sync"); err != nil {
		t.Fatalf("writing 1 GiB: %v\n%s", err, out)
	}
	started := time.Now()
	layer, err := m.CaptureDisk(context.Background())
	took := time.Since(started)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("layer %s (released by the host's Close)", layer)
	return took
}
