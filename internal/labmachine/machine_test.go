package labmachine

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine/imdstest"
)

// bootTimeout bounds a boot to SSH answering (the budget is 15 s on a cached image; this is what a
// loaded CI machine may take).
const bootTimeout = 3 * time.Minute

// testOSes are the base images the tests boot: the three CI builds with `make lab`, or the
// comma-separated GOLDEN_LAB_OSES ("all" for every one, as issue work on new releases needs).
func testOSes(h *Host) []string {
	switch v := os.Getenv("GOLDEN_LAB_OSES"); v {
	case "":
		return []string{"debian-12", "ubuntu-22.04", "ubuntu-24.04"}
	case "all":
		return h.BaseImages()
	default:
		return strings.Split(v, ",")
	}
}

// requireLab skips under -short and with GOLDEN_SKIP_LAB=1, and fails where machines cannot run.
func requireLab(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("lab machine test: skipped under -short")
	}
	if v := os.Getenv("GOLDEN_SKIP_LAB"); v == "1" || v == "true" {
		t.Skip("GOLDEN_SKIP_LAB is set")
	}
	if os.Geteuid() != 0 {
		t.Fatal("lab machines need root (systemd-nspawn, network namespaces, nftables); see docs/test-lab.md")
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ScriptPath)); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no " + ScriptPath + " above the test's folder")
		}
		dir = parent
	}
}

func newTestHost(t *testing.T) *Host {
	t.Helper()
	requireLab(t)
	h, err := New(Options{RepoRoot: repoRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("closing the lab host: %v", err)
		}
	})
	return h
}

// keyPair is a fresh ed25519 key, as EC2's CreateKeyPair makes.
type keyPair struct {
	signer ssh.Signer
	public string
}

func newKeyPair(t *testing.T) keyPair {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{signer: signer, public: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))}
}

// launched is a machine booted for a test, with the key its metadata service hands out.
type launched struct {
	*Machine
	key keyPair
}

var instanceCounter = time.Now().UnixNano()

// launch boots a machine of base (over layers) whose metadata service serves a fresh key.
func launch(t *testing.T, h *Host, imds *imdstest.Server, base string, ingress []ec2sim.IngressRule, layers ...string) launched {
	t.Helper()
	instanceCounter++
	id := fmt.Sprintf("i-%017x", instanceCounter)
	if ingress == nil {
		ingress = []ec2sim.IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{CallerCIDR()}}}
	}
	key := newKeyPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	m, err := h.Boot(ctx, ec2sim.MachineSpec{
		InstanceID: id, Region: "eu-west-1", Base: base, Layers: layers,
		IMDSAddress: imds.Addr, Ingress: ingress,
	})
	if err != nil {
		t.Fatal(err)
	}
	lm := m.(*Machine)
	imds.Add(lm.Address(), imdstest.Instance{ID: id, PublicKey: key.public, Region: "eu-west-1", MAC: lm.MAC()})
	t.Cleanup(func() {
		if t.Failed() {
			if out, err := h.run(context.Background(), "logs", lm.Name()); err == nil {
				t.Logf("machine %s:\n%s", lm.Name(), out)
			}
		}
		if err := lm.Terminate(context.Background()); err != nil {
			t.Errorf("terminating %s: %v", lm.Name(), err)
		}
	})
	return launched{Machine: lm, key: key}
}

// waitBooted waits for the machine's DHCP lease.
func (m launched) waitBooted(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(bootTimeout)
	for !m.Booted() {
		if time.Now().After(deadline) {
			t.Fatalf("machine %s did not get its DHCP lease within %s", m.Name(), bootTimeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dial logs in as user with signer, the host key checked against the console's; it retries
// until timeout (sshd not up yet, the key not installed yet, or the port filtered).
func (m launched) dial(user string, signer ssh.Signer, timeout time.Duration) (*ssh.Client, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		console, err := m.ConsoleOutput()
		if err != nil {
			return nil, err
		}
		keys, err := HostKeysFromConsole(console)
		if err != nil {
			last = err
			time.Sleep(200 * time.Millisecond)
			continue
		}
		cfg := &ssh.ClientConfig{
			User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: HostKeyCallback(keys), Timeout: 3 * time.Second,
		}
		c, err := ssh.Dial("tcp", net.JoinHostPort(m.Address(), "22"), cfg)
		if err == nil {
			return c, nil
		}
		last = err
		time.Sleep(300 * time.Millisecond)
	}
	return nil, fmt.Errorf("ssh %s@%s: %w", user, m.Address(), last)
}

func (m launched) mustDial(t *testing.T) *ssh.Client {
	t.Helper()
	c, err := m.dial(m.User(), m.key.signer, bootTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// TestMachineBootsLikeACloudImage boots each base image as an EC2 instance boots: the address by
// DHCP, the default user and key by cloud-init from the metadata service.
func TestMachineBootsLikeACloudImage(t *testing.T) {
	h := newTestHost(t)
	imds := imdstest.Start(t)
	for _, base := range testOSes(h) {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			started := time.Now()
			m := launch(t, h, imds, base, nil)
			m.waitBooted(t)
			c := m.mustDial(t)
			t.Logf("%s: SSH as %s %s after Boot", base, m.User(), time.Since(started).Round(time.Millisecond))
			wantUser := map[bool]string{true: "ubuntu", false: "admin"}[strings.HasPrefix(base, "ubuntu")]
			if m.User() != wantUser {
				t.Errorf("default user %q, want %q", m.User(), wantUser)
			}
			if got := run(t, c, "cloud-init status --wait || true"); !strings.Contains(got, "status: done") {
				t.Errorf("cloud-init status:\n%s\n%s", got, run(t, c, "sudo grep -E -A30 'WARNING|ERROR|Traceback' /var/log/cloud-init.log | grep -v DEBUG | head -60 || true"))
			}
			if got := run(t, c, "cloud-init query v1.instance_id; cloud-init query v1.cloud_name"); !strings.Contains(got, imds.InstanceID(m.Address())) {
				t.Errorf("cloud-init's instance id: %q", got)
			}
			if got := run(t, c, "sudo -n true && sudo -n cat /etc/sudoers.d/90-cloud-init-users"); !strings.Contains(got, m.User()+" ALL=(ALL) NOPASSWD:ALL") {
				t.Errorf("sudoers drop-in:\n%s", got)
			}
			if got := run(t, c, "ip -4 -o addr show dev ens5"); !strings.Contains(got, m.Address()+"/30") || !strings.Contains(got, "dynamic") {
				t.Errorf("ens5 has no DHCP address %s:\n%s", m.Address(), got)
			}
			if got := run(t, c, "ss -Hulnp 'sport = :68'"); !strings.Contains(got, ":68") {
				t.Errorf("no DHCP client on 68/udp:\n%s", got)
			}
			if got := run(t, c, "curl -s -m 5 -H \"X-aws-ec2-metadata-token: $(curl -s -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)\" http://169.254.169.254/latest/meta-data/local-ipv4"); got != m.Address() {
				t.Errorf("the metadata service from inside says local-ipv4 %q, want %q", got, m.Address())
			}
			if base == "ubuntu-24.04" || base == "ubuntu-26.04" {
				if got := run(t, c, "systemctl is-enabled ssh.socket; systemctl is-active ssh.socket"); got != "enabled\nactive\n" {
					t.Errorf("sshd is not socket-activated:\n%s", got)
				}
			}
			// Every file belongs to an account of the image, as on the vendor's: the image build
			// must not leave the build host's uids behind (CIS's unowned-files check would see them).
			if got := run(t, c, "sudo -n find / -xdev \\( -nouser -o -nogroup \\) -printf '%p %U:%G\\n'"); got != "" {
				t.Errorf("files of no known owner or group:\n%s", got)
			}
			// The machine reaches nothing but its DHCP server, metadata service and apt proxy.
			if got := run(t, c, "curl -s -m 3 -o /dev/null -w '%{http_code}' http://"+m.HostAddress()+":1/ || echo blocked"); !strings.Contains(got, "blocked") && !strings.HasPrefix(got, "000") {
				t.Errorf("the machine opened a connection to the host's port 1: %q", got)
			}
			other := newKeyPair(t)
			if c2, err := m.dial(m.User(), other.signer, 5*time.Second); err == nil {
				c2.Close()
				t.Error("a key the metadata service did not serve logged in")
			}
		})
	}
}

// TestMachineDiskLifecycle: what a build does with an instance. A file written on a machine is in
// the layer CaptureDisk makes, and a machine booted from that layer has it (with host keys of its
// own); stop/start and reboot keep the disk; the ingress rules decide who may connect.
func TestMachineDiskLifecycle(t *testing.T) {
	h := newTestHost(t)
	imds := imdstest.Start(t)
	base := "ubuntu-22.04"
	first := launch(t, h, imds, base, nil)
	c := first.mustDial(t)
	run(t, c, "cloud-init status --wait >/dev/null; echo built-here | sudo tee /etc/golden-build >/dev/null && sync")
	c.Close()

	// A running machine's disk, as CreateImage with NoReboot.
	started := time.Now()
	layer, err := first.CaptureDisk(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("captured layer %s in %s", layer, time.Since(started).Round(time.Millisecond))
	firstKeys, _ := HostKeysFromConsole(mustConsole(t, first))

	second := launch(t, h, imds, base, nil, layer)
	c2 := second.mustDial(t)
	if got := run(t, c2, "cat /etc/golden-build"); got != "built-here\n" {
		t.Errorf("the file the build left: %q", got)
	}
	secondKeys, _ := HostKeysFromConsole(mustConsole(t, second))
	if len(firstKeys) == 0 || len(secondKeys) == 0 || string(firstKeys[0].Marshal()) == string(secondKeys[0].Marshal()) {
		t.Error("the machine from the captured layer kept the first machine's host keys")
	}
	if err := h.ReleaseLayer(layer); err == nil {
		t.Error("ReleaseLayer deleted a layer a machine's disk uses")
	}
	if err := first.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := first.ConsoleOutput(); err == nil {
		t.Error("the terminated machine still has a console")
	}

	// stop/start and reboot keep the disk.
	run(t, c2, "echo kept | sudo tee /var/tmp/kept >/dev/null && sync")
	c2.Close()
	ctx := context.Background()
	if err := second.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if second.Booted() {
		t.Error("a stopped machine reports it has booted")
	}
	if err := second.Start(ctx); err != nil {
		t.Fatal(err)
	}
	second.waitBooted(t)
	c3 := second.mustDial(t)
	bootID := run(t, c3, "cat /var/tmp/kept /proc/sys/kernel/random/boot_id")
	if !strings.HasPrefix(bootID, "kept\n") {
		t.Errorf("after stop/start: %q", bootID)
	}
	c3.Close()
	if err := second.Reboot(ctx); err != nil {
		t.Fatal(err)
	}
	second.waitBooted(t)
	c4 := second.mustDial(t)
	if got := run(t, c4, "cat /var/tmp/kept /proc/sys/kernel/random/boot_id"); !strings.HasPrefix(got, "kept\n") || got == bootID {
		t.Errorf("after reboot (a new boot id, the same file): %q, before %q", got, bootID)
	}
	c4.Close()

	// Ingress: without the host's address SSH times out; with it, SSH gets in, while it runs.
	if err := second.SetIngress([]ec2sim.IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"203.0.113.0/24"}}}); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(second.Address(), "22"), 3*time.Second)
	if err == nil {
		conn.Close()
		t.Error("SSH answered a host the ingress rules leave out")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Errorf("want a timeout (dropped, as a security group does), got %v", err)
	}
	if err := second.SetIngress([]ec2sim.IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"203.0.113.0/24", second.HostAddress() + "/32"}}}); err != nil {
		t.Fatal(err)
	}
	c5, err := second.dial(second.User(), second.key.signer, 20*time.Second)
	if err != nil {
		t.Fatalf("SSH with the host's address in the rules: %v", err)
	}
	c5.Close()
}

func mustConsole(t *testing.T, m launched) []byte {
	t.Helper()
	out, err := m.ConsoleOutput()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMachinesInParallel boots four machines at once; each answers SSH with its own key and runs
// as its own instance.
func TestMachinesInParallel(t *testing.T) {
	h := newTestHost(t)
	imds := imdstest.Start(t)
	const n = 4
	for i := range n {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			m := launch(t, h, imds, "debian-12", nil)
			c := m.mustDial(t)
			if got := run(t, c, "cloud-init query v1.instance_id"); strings.TrimSpace(got) != imds.InstanceID(m.Address()) {
				t.Errorf("machine %s runs as instance %q", m.Address(), got)
			}
		})
	}
}

// TestCaptureWhileFilesComeAndGo captures a running machine (CreateImage with NoReboot) while a
// process on it creates and deletes files as fast as it can: a file that goes away between the
// copy listing its folder and reading it is left out of the layer (it was gone at some point of
// the capture, as in a crash-consistent snapshot), not an error.
func TestCaptureWhileFilesComeAndGo(t *testing.T) {
	h := newTestHost(t)
	imds := imdstest.Start(t)
	m := launch(t, h, imds, "debian-12", nil)
	c := m.mustDial(t)
	run(t, c, "echo kept | sudo tee /var/tmp/kept >/dev/null && sync")
	churn, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer churn.Close()
	if err := churn.Start("sudo sh -c 'mkdir -p /var/tmp/churn; while :; do for i in $(seq 300); do echo x >/var/tmp/churn/$i; done; rm -rf /var/tmp/churn/*; done'"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	lab := os.Getenv("GOLDEN_LAB_DIR")
	if lab == "" {
		lab = filepath.Join(repoRoot(t), ".lab")
	}
	for i := range 20 {
		layer, err := m.CaptureDisk(context.Background())
		if err != nil {
			t.Fatalf("capture %d of a machine whose files come and go: %v", i+1, err)
		}
		kept, err := os.ReadFile(filepath.Join(lab, "layers", layer, "disk", "var/tmp/kept"))
		if err != nil || string(kept) != "kept\n" {
			t.Errorf("capture %d: a file that stayed is not in the layer: %q, %v", i+1, kept, err)
		}
	}
}
