package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine/imdstest"
)

// MachineHost is a lab machine (internal/labmachine) booted the way EC2 boots an instance of the
// vendor's image: its address by DHCP, its default user (admin on Debian, ubuntu on Ubuntu) and
// the launch's key from the real cloud-init reading a metadata service, its host keys made at
// first boot, the vendor's sshd. Its TargetHost is what the build and the checks use: Host, Port,
// User, a key file and a known_hosts file holding the host keys the machine printed on its
// console.
type MachineHost struct {
	*TargetHost
	// OS is the base image: debian-12, ubuntu-22.04, ...
	OS      string
	Machine *labmachine.Machine
	// Signer is the launch's key, as a client signs with it.
	Signer ssh.Signer

	host   *labmachine.Host
	imds   *imdstest.Server
	layers []string
	dir    string
	// started is when the boot began, upAfter how long until the first login worked.
	started time.Time
	upAfter time.Duration
}

// MachineOption changes how Machine (or Relaunch) boots.
type MachineOption func(*machineConfig)

type machineConfig struct {
	userData string
	ports    []int
}

// WithUserData hands the instance this user data (a #cloud-config document) through the
// metadata service, as RunInstances' UserData does.
func WithUserData(userData string) MachineOption {
	return func(c *machineConfig) { c.userData = userData }
}

// WithIngress lets connections from this host in on these TCP ports besides 22, as a security
// group rule would.
func WithIngress(ports ...int) MachineOption {
	return func(c *machineConfig) { c.ports = append(c.ports, ports...) }
}

var machineIDs atomic.Int64

func init() { machineIDs.Store(time.Now().UnixNano() & 0xffffffffffff) }

// Machine boots a machine of the base image base and waits until its default user logs in over
// SSH with the launch's key. The machine and everything it made are removed when the test ends;
// on failure its console and journal go to the test log first.
func Machine(t *testing.T, base string, opts ...MachineOption) *MachineHost {
	t.Helper()
	return MachinesAtOnce(t, base, 1, opts...)[0]
}

// MachinesAtOnce boots n machines of the base image base, as Machine does, and waits for all of
// them at once: a benchmark boots every machine it will measure before its clock starts, in the
// time of one boot. Until the test ends, each waits idle for its turn.
func MachinesAtOnce(t *testing.T, base string, n int, opts ...MachineOption) []*MachineHost {
	t.Helper()
	host := Machines(t)
	imds := imdstest.Start(t)
	ms := make([]*MachineHost, n)
	for i := range ms {
		ms[i] = &MachineHost{OS: base, host: host, imds: imds, dir: t.TempDir()}
		ms[i].start(t, opts)
	}
	waitAllUp(t, ms)
	return ms
}

// waitAllUp waits for the started machines' SSH logins at once. The waits only report: the test
// fails from its own goroutine.
func waitAllUp(t *testing.T, ms []*MachineHost) {
	t.Helper()
	errs := make([]error, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.waitUp()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		t.Logf("machine %s (%s) up at %s after %s", m.Name, m.OS, m.Host, m.upAfter.Round(time.Millisecond))
	}
}

// Relaunch captures this machine's disk, as CreateImage does, and boots a new instance of it: a
// new instance id and a new key, so cloud-init runs its per-instance modules again (users, keys,
// host keys, user data), as at the first launch of an AMI built from this machine. This machine
// keeps running.
func (m *MachineHost) Relaunch(t *testing.T, opts ...MachineOption) *MachineHost {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	layer, err := m.Machine.CaptureDisk(ctx)
	if err != nil {
		t.Fatalf("lab: capturing %s: %v", m.Name, err)
	}
	next := &MachineHost{OS: m.OS, host: m.host, imds: m.imds, dir: t.TempDir(),
		layers: append(append([]string(nil), m.layers...), layer)}
	next.start(t, opts)
	waitAllUp(t, []*MachineHost{next})
	return next
}

// start boots the machine; waitUp then waits for its SSH login.
func (m *MachineHost) start(t *testing.T, opts []MachineOption) {
	t.Helper()
	var cfg machineConfig
	for _, o := range opts {
		o(&cfg)
	}
	key, signer := newKeyPair(t)
	m.Signer = signer
	keyPath := filepath.Join(m.dir, "key")
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("i-%017x", machineIDs.Add(1))
	ingress := []ec2sim.IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{labmachine.CallerCIDR()}}}
	for _, p := range cfg.ports {
		ingress = append(ingress, ec2sim.IngressRule{Protocol: "tcp", FromPort: p, ToPort: p, CIDRs: []string{labmachine.CallerCIDR()}})
	}
	started := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	booted, err := m.host.Boot(ctx, ec2sim.MachineSpec{
		InstanceID: id, Region: SimRegion, Base: m.OS, Layers: m.layers,
		IMDSAddress: m.imds.Addr, Ingress: ingress,
	})
	if err != nil {
		t.Fatalf("lab: booting a %s machine: %v", m.OS, err)
	}
	m.Machine = booted.(*labmachine.Machine)
	name := m.Machine.Name()
	m.imds.Add(m.Machine.Address(), imdstest.Instance{
		ID: id, Region: SimRegion, MAC: m.Machine.MAC(), UserData: cfg.userData,
		PublicKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(m.Signer.PublicKey()))),
	})
	t.Cleanup(func() {
		if t.Failed() {
			if out, _, err := runScript(t, "logs", name); err == nil {
				t.Logf("machine %s (%s), console and journal:\n%s", name, m.OS, out)
			}
		}
	})
	m.TargetHost = &TargetHost{
		Name: name, Host: m.Machine.Address(), Port: 22, User: m.Machine.User(),
		KeyPath: keyPath, KnownHostsPath: filepath.Join(m.dir, "known_hosts"), bootWait: machineWait,
	}
	m.started = started
}

// waitUp waits until the default user logs in with the launch's key and cloud-init is done; it
// calls nothing of testing.T, so that several machines can be waited for at once.
func (m *MachineHost) waitUp() error {
	deadline := time.Now().Add(machineWait)
	for {
		err := m.writeKnownHosts()
		if err == nil {
			var c *ssh.Client
			if c, err = m.dial(); err == nil {
				if _, err = runAndClose(c, "cloud-init status --wait >/dev/null; true"); err == nil {
					m.upAfter = time.Since(m.started)
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: %s machine %s: no SSH login as %s within %s: %v", m.OS, m.Name, m.User, machineWait, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// writeKnownHosts writes the host keys the machine printed on its console, for port 22 and for
// the port the machine's sshd was moved to.
func (m *MachineHost) writeKnownHosts() error {
	console, err := m.Machine.ConsoleOutput()
	if err != nil {
		return err
	}
	keys, err := labmachine.HostKeysFromConsole(console)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, k := range keys {
		line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
		fmt.Fprintf(&b, "%s %s\n", m.Host, line)
		for _, p := range []int{m.Port, 2222} {
			if p != 22 {
				fmt.Fprintf(&b, "[%s]:%d %s\n", m.Host, p, line)
			}
		}
	}
	return os.WriteFile(m.KnownHostsPath, []byte(b.String()), 0o600)
}

// MoveSSHPort makes the machine's sshd listen on port instead of 22, the way an administrator
// does on that release: a Port line in a drop-in, and on releases that socket-activate sshd
// (Ubuntu 24.04 and later) the socket unit regenerated from it. The machine needs WithIngress(port).
func (m *MachineHost) MoveSSHPort(t *testing.T, port int) {
	t.Helper()
	// Sessions survive a restart of sshd (KillMode=process); this one may still lose its
	// connection when the socket moves, so its outcome is what the new port answers.
	_, _ = m.Run(t, fmt.Sprintf(`sudo sh -euc '
printf "Port %d\n" >/etc/ssh/sshd_config.d/10-port.conf
if systemctl is-enabled -q ssh.socket 2>/dev/null; then
	systemctl daemon-reload
	systemctl restart ssh.socket
else
	systemctl restart ssh.service
fi'`, port))
	old := m.Port
	m.Port = port
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := m.Run(t, "echo moved")
		if err == nil && strings.Contains(out, "moved") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab: sshd of %s did not answer on port %d (was %d): %v", m.Name, port, old, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Login opens a NEW SSH connection as user with signer, the host key checked, runs cmd and
// returns its combined output.
func (m *MachineHost) Login(user string, signer ssh.Signer, cmd string) (string, error) {
	return m.RunAs(user, ssh.PublicKeys(signer), cmd)
}
