package labmachine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// Machine is one machine of a Host: booting, running, stopped, or terminated.
type Machine struct {
	host *Host
	name string
	// address is the machine's, hostAddress the host's end of its link: the source address of
	// every connection the host opens to it.
	address, hostAddress string
	mac                  string
	user                 string
	dir                  string

	mu         sync.Mutex
	terminated bool
}

var _ ec2sim.Machine = (*Machine)(nil)

// Name is the machine's name in the lab (target.sh logs NAME shows its console and journal).
func (m *Machine) Name() string { return m.name }

// Address is the machine's IPv4 address, which its DHCP server hands out on every boot.
func (m *Machine) Address() string { return m.address }

// MAC is the hardware address of the machine's ens5 (systemd-nspawn derives it from the machine's
// name, so it stays across reboots and stop/start): what the metadata service reports as the
// instance's mac and network/interfaces/macs/.
func (m *Machine) MAC() string { return m.mac }

// HostAddress is the host's end of the machine's link: connections from this host to the machine
// come from it, so an ingress rule must cover it to let the host in. Every such address lies in
// the lab's block (CallerCIDR).
func (m *Machine) HostAddress() string { return m.hostAddress }

// User is the default user the vendor's cloud-init creates: admin on Debian, ubuntu on Ubuntu.
func (m *Machine) User() string { return m.user }

// Booted reports whether the machine's network is up: its DHCP client has its lease, which it
// asks for once systemd has started the network.
func (m *Machine) Booted() bool {
	data, err := os.ReadFile(filepath.Join(m.dir, "dhcp.leases"))
	return err == nil && bytes.Contains(data, []byte(" "+m.address+" "))
}

// Stop powers the machine off (an orderly shutdown); its disk and address stay.
func (m *Machine) Stop(ctx context.Context) error { return m.command(ctx, "machine-stop") }

// Start boots the stopped machine from the same disk.
func (m *Machine) Start(ctx context.Context) error { return m.command(ctx, "machine-boot") }

// Reboot asks the machine's systemd to reboot and returns once the new boot has its network.
func (m *Machine) Reboot(ctx context.Context) error { return m.command(ctx, "machine-reboot") }

// Terminate powers the machine off and discards its disk. Terminating twice is no error.
func (m *Machine) Terminate(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.terminated {
		return nil
	}
	if _, err := m.host.run(ctx, "machine-terminate", m.name); err != nil {
		return err
	}
	m.terminated = true
	m.host.forget(m.name)
	return nil
}

// CaptureDisk copies the machine's disk above its layers into a new layer of the host.
func (m *Machine) CaptureDisk(ctx context.Context) (string, error) {
	out, err := m.host.run(ctx, "capture", m.name, "--owner", fmt.Sprint(os.Getpid()))
	if err != nil {
		return "", err
	}
	layer := strings.TrimSpace(out)
	m.host.mu.Lock()
	m.host.layers[layer] = true
	m.host.mu.Unlock()
	return layer, nil
}

// SetIngress replaces the machine's ingress rules, at once if it runs.
func (m *Machine) SetIngress(rules []ec2sim.IngressRule) error {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	_, err := m.host.run(ctx, "ingress", m.name, encodeIngress(rules))
	return err
}

// ConsoleOutput is the machine's console since its first boot: systemd's and cloud-init's
// messages, cloud-init's host key fingerprints and keys.
func (m *Machine) ConsoleOutput() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.terminated {
		return nil, errors.New("labmachine: machine terminated")
	}
	return os.ReadFile(filepath.Join(m.dir, "console.log"))
}

func (m *Machine) command(ctx context.Context, cmd string) error {
	m.mu.Lock()
	terminated := m.terminated
	m.mu.Unlock()
	if terminated {
		return errors.New("labmachine: machine terminated")
	}
	_, err := m.host.run(ctx, cmd, m.name)
	return err
}

// HostKeysFromConsole reads the host keys cloud-init prints on the console at first boot (between
// its BEGIN and END SSH HOST KEY KEYS lines), as EC2 users read them from GetConsoleOutput. The
// newest block wins: a machine launched from a captured image prints new ones.
func HostKeysFromConsole(console []byte) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	in := false
	sc := bufio.NewScanner(bytes.NewReader(console))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.Contains(line, "-----BEGIN SSH HOST KEY KEYS-----"):
			in, keys = true, nil
		case strings.Contains(line, "-----END SSH HOST KEY KEYS-----"):
			in = false
		case in:
			if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("labmachine: no host keys on the console (yet)")
	}
	return keys, nil
}

// HostKeyCallback accepts exactly the host keys the machine printed on its console.
func HostKeyCallback(keys []ssh.PublicKey) ssh.HostKeyCallback {
	return func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), key.Marshal()) {
				return nil
			}
		}
		return fmt.Errorf("labmachine: %s offered a host key it did not print on its console", hostname)
	}
}
