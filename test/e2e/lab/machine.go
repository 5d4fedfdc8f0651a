package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	host := Machines(t)
	m := &MachineHost{OS: base, host: host, imds: imdstest.Start(t), dir: t.TempDir()}
	m.boot(t, opts)
	return m
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
	next.boot(t, opts)
	return next
}

func (m *MachineHost) boot(t *testing.T, opts []MachineOption) {
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
	deadline := time.Now().Add(machineWait)
	for {
		err := m.writeKnownHosts()
		if err == nil {
			if _, err = m.Run(t, "cloud-init status --wait >/dev/null; true"); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab: %s machine %s: no SSH login as %s within %s: %v", m.OS, name, m.User, machineWait, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("machine %s (%s) up at %s after %s", name, m.OS, m.Host, time.Since(started).Round(time.Millisecond))
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
