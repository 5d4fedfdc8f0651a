package lab

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// A VM is a lab cloud image booted by qemu with a real kernel, for the controls a container
// cannot prove: kernel.* sysctls in force, auditd's immutable mode, chronyd setting the clock.
// test/target/target.sh vm-image builds its disk once (cached under the lab dir, keyed by its
// recipe); each VM boots a copy-on-write overlay of it. cloud-init reads NoCloud from a seed disk
// (label cidata) with the build user's key and the VM's host key, so the known_hosts file is
// written before the first connection.
//
// qemu runs in a network namespace of the test's own, holding nothing but its loopback device:
// qemu's user-mode network can only reach what listens there. Two things do: the NTP server the
// test runs at 169.254.169.123, the address of EC2's Amazon Time Sync Service (golden-harden's
// default chrony source), and qemu's forward of the guest's sshd, which the test relays to a port
// on the host's 127.0.0.1.

// vmWait bounds a VM's boot to SSH, and PowerCycle's: without KVM qemu emulates the CPU, and a
// boot takes minutes. GOLDEN_VM_BOOT_WAIT (a Go duration) changes it.
func vmWait() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("GOLDEN_VM_BOOT_WAIT")); err == nil && d > 0 {
		return d
	}
	return 20 * time.Minute
}

// vmImageTimeout bounds target.sh vm-image, which builds the VM image when its recipe changed.
const vmImageTimeout = 90 * time.Minute

// TimeSyncAddress is where EC2 instances reach the Amazon Time Sync Service, and where the VM's
// NTPServer answers.
const TimeSyncAddress = "169.254.169.123"

// vmSSHForward is the address in the VM's network namespace where qemu forwards the guest's sshd.
const vmSSHForward = "127.0.0.1:22"

// VMHost is a running VM: a TargetHost (Run, MustRun, PackerVars) on a relayed port.
type VMHost struct {
	*TargetHost
	OS      string
	Console string // the serial console's log, every boot's
	// NTP is the time server the VM reaches at TimeSyncAddress.
	NTP *NTPServer

	ns                      *netns
	image, overlay, seedISO string
	qemu                    *exec.Cmd
	exited                  chan error
}

// vmImage is the folder of OS's VM image (its disk, kernel and initrd), built on first use.
func vmImage(t *testing.T, osName string) string {
	t.Helper()
	// The first run builds the image: well over scriptTimeout on a busy host without KVM.
	out, stderr, err := runScriptWithin(t, vmImageTimeout, "vm-image", osName)
	if err != nil {
		t.Fatalf("lab: target.sh vm-image %s: %v\n%s", osName, err, stderr)
	}
	return strings.TrimSpace(out)
}

// VM boots a VM from OS's VM image (built on first use) and waits for its build user's SSH login
// and cloud-init's end. It is stopped when the test ends.
func VM(t *testing.T, osName string) *VMHost {
	t.Helper()
	RequireVMSuite(t)
	image := vmImage(t, osName)
	dir := t.TempDir()
	v := &VMHost{OS: osName, Console: filepath.Join(dir, "console.log"), image: image,
		overlay: filepath.Join(dir, "disk.qcow2"), seedISO: filepath.Join(dir, "seed.iso")}

	// The build user's key and the VM's host key.
	clientKey, clientSigner := newKeyPair(t)
	clientPub := clientSigner.PublicKey()
	keyPath := filepath.Join(dir, "key")
	if err := os.WriteFile(keyPath, clientKey, 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey, hostSigner := newKeyPair(t)
	hostPub := hostSigner.PublicKey()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()
	known := knownhosts.Line([]string{knownhosts.Normalize(addr)}, hostPub)
	knownPath := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(knownPath, []byte(known+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	seed := filepath.Join(dir, "seed")
	if err := os.MkdirAll(seed, 0o700); err != nil {
		t.Fatal(err)
	}
	name := targetName(t.Name(), randomSuffix(t))
	files := map[string]string{
		"meta-data": fmt.Sprintf("instance-id: %s\nlocal-hostname: %s\n", name, name),
		"user-data": vmUserData(clientPub, hostKey, hostPub),
	}
	for f, content := range files {
		if err := os.WriteFile(filepath.Join(seed, f), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][]string{
		{"genisoimage", "-quiet", "-output", v.seedISO, "-volid", "cidata", "-joliet", "-rock",
			filepath.Join(seed, "meta-data"), filepath.Join(seed, "user-data")},
		{"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", filepath.Join(v.image, "disk.raw"), v.overlay},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("lab: %s: %v\n%s", c[0], err, out)
		}
	}

	v.ns, err = newNetns()
	if err != nil {
		t.Fatalf("lab: the VM's network namespace: %v", err)
	}
	t.Cleanup(func() { v.ns.Close() })
	var ntp net.PacketConn
	err = v.ns.do(func() error {
		for _, c := range [][]string{
			{"ip", "link", "set", "lo", "up"},
			{"ip", "address", "add", TimeSyncAddress + "/32", "dev", "lo"},
		} {
			if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s: %w: %s", strings.Join(c, " "), err, out)
			}
		}
		var err error
		ntp, err = net.ListenPacket("udp", net.JoinHostPort(TimeSyncAddress, "123"))
		return err
	})
	if err != nil {
		t.Fatalf("lab: the VM's network namespace: %v", err)
	}
	v.NTP = ServeNTP(ntp)
	t.Cleanup(func() { v.NTP.Close() })
	go v.ns.relay(ln, vmSSHForward)

	v.TargetHost = &TargetHost{
		Name: name, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, User: vmUser(osName),
		KeyPath: keyPath, KnownHostsPath: knownPath, bootWait: vmWait(),
	}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(v.Console); err == nil {
				t.Logf("VM %s console (last 8 KiB):\n%s", name, tail(b, 8<<10))
			}
		}
		v.kill()
	})
	v.boot(t, 0)
	return v
}

// PowerCycle shuts the VM down from inside, as a stop of an instance does, and boots it again
// with its hardware clock (the RTC the kernel reads at boot) off by clockOffset from the host's:
// what a time daemon then has to correct.
func (v *VMHost) PowerCycle(t *testing.T, clockOffset time.Duration) {
	t.Helper()
	// The connection drops while the command runs: its error says nothing.
	_, _ = v.Run(t, "sudo systemctl poweroff")
	select {
	case <-v.exited:
	case <-time.After(v.bootWait):
		t.Fatalf("lab: VM %s did not power off within %s", v.Name, v.bootWait)
	}
	v.qemu = nil
	v.boot(t, clockOffset)
}

// boot starts qemu with the RTC off by clockOffset and waits for SSH and cloud-init.
func (v *VMHost) boot(t *testing.T, clockOffset time.Duration) {
	t.Helper()
	console, err := os.OpenFile(v.Console, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer console.Close()
	rtc := "utc"
	if clockOffset != 0 {
		rtc = time.Now().UTC().Add(clockOffset).Format("2006-01-02T15:04:05")
	}
	cmd := exec.Command("qemu-system-x86_64", vmArgs(v.image, v.overlay, v.seedISO, rtc)...)
	cmd.Stdout, cmd.Stderr = console, console
	// qemu dies with the test binary, however it ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := time.Now()
	if err := v.ns.do(cmd.Start); err != nil {
		t.Fatalf("lab: starting qemu: %v", err)
	}
	v.qemu, v.exited = cmd, make(chan error, 1)
	go func() { v.exited <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), v.bootWait)
	defer cancel()
	for {
		_, err := v.Run(t, "cloud-init status --wait >/dev/null; true")
		if err == nil {
			break
		}
		select {
		case e := <-v.exited:
			v.exited <- e
			t.Fatalf("lab: qemu exited before the VM answered: %v", e)
		case <-ctx.Done():
			t.Fatalf("lab: %s VM %s: no SSH login as %s within %s: %v", v.OS, v.Name, v.User, v.bootWait, err)
		case <-time.After(2 * time.Second):
		}
	}
	t.Logf("VM %s (%s) up at %s after %s (RTC %s)", v.Name, v.OS, v.Address(), time.Since(started).Round(time.Second), rtc)
}

func (v *VMHost) kill() {
	if v.qemu != nil {
		_ = v.qemu.Process.Kill()
		<-v.exited
	}
}

// vmAccel picks qemu's accelerator and CPU model, once per test binary: KVM when the host has it
// and a guest kernel actually runs there, else software emulation. A host that is itself a VM may
// offer /dev/kvm and still fail its guests: with the host CPU model qemu aborts at the vCPU's
// reset (an MSR that nested virtualization refuses), and without that MSR the guest spins before
// its first console line. So each KVM model boots the image's kernel, with no root file system,
// and must print the kernel's banner on the serial console within kvmProbeWait.
func vmAccel(kernel string) (accel, cpu string) {
	accelOnce.Do(func() {
		accelPicked = [2]string{"tcg", "max"}
		f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
		if err != nil {
			return
		}
		f.Close()
		for _, model := range []string{"host", "host,-arch-capabilities"} {
			if kernelBoots("kvm", model, kernel) {
				accelPicked = [2]string{"kvm", model}
				return
			}
		}
	})
	return accelPicked[0], accelPicked[1]
}

var (
	accelOnce   sync.Once
	accelPicked [2]string
)

// kvmProbeWait bounds the probe: under KVM the banner comes within a second.
const kvmProbeWait = 10 * time.Second

// kernelBoots reports whether the kernel, booted by qemu with the accelerator and CPU model,
// prints its banner ("Linux version") on the serial console within kvmProbeWait. At the deadline
// the context kills qemu, which closes its output and ends the scan.
func kernelBoots(accel, cpu, kernel string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), kvmProbeWait)
	defer cancel()
	args := append(qemuBaseArgs(accel, cpu, "256"), "-no-reboot", "-kernel", kernel, "-append", "console=ttyS0 panic=-1")
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	out, err := cmd.StdoutPipe()
	if err != nil || cmd.Start() != nil {
		return false
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	for lines := bufio.NewScanner(out); lines.Scan(); {
		if bytes.Contains(lines.Bytes(), []byte("Linux version")) {
			return true
		}
	}
	return false
}

// qemuBaseArgs are the arguments every qemu run of the lab starts with: the accelerator and CPU
// model, the memory (qemu's -m), no display, devices or monitor of qemu's own, the serial
// console on stdout.
func qemuBaseArgs(accel, cpu, memory string) []string {
	return []string{"-accel", accel, "-cpu", cpu, "-m", memory,
		"-display", "none", "-no-user-config", "-nodefaults", "-serial", "stdio", "-monitor", "none"}
}

// vmArgs is qemu's command line: the accelerator vmAccel picks; two CPUs;
// the RTC at rtc (qemu's -rtc base); the kernel and initrd of the image booted directly; the disk,
// the seed and the NIC on fixed PCI slots (the NIC in slot 5: ens5, the name EC2's Nitro instances
// give it).
func vmArgs(image, overlay, seedISO, rtc string) []string {
	accel, cpu := vmAccel(filepath.Join(image, "vmlinuz"))
	return append(qemuBaseArgs(accel, cpu, "2048"),
		"-name", "golden-vm", "-smp", "2",
		"-rtc", "base="+rtc,
		"-kernel", filepath.Join(image, "vmlinuz"), "-initrd", filepath.Join(image, "initrd.img"),
		"-append", "root=/dev/vda rw console=ttyS0 panic=-1",
		"-drive", "if=none,id=root,format=qcow2,file="+overlay,
		"-device", "virtio-blk-pci,drive=root,addr=0x6",
		"-drive", "if=none,id=seed,format=raw,readonly=on,file="+seedISO,
		"-device", "virtio-blk-pci,drive=seed,addr=0x7",
		"-netdev", "user,id=n0,hostfwd=tcp:"+vmSSHForward+"-:22",
		"-device", "virtio-net-pci,netdev=n0,addr=0x5",
		"-device", "virtio-rng-pci,addr=0x8",
	)
}

// vmUserData is the NoCloud user data: the default user's key, and the host key sshd uses.
func vmUserData(clientPub ssh.PublicKey, hostKey []byte, hostPub ssh.PublicKey) string {
	indent := func(s string) string {
		return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
	}
	return "#cloud-config\n" +
		"ssh_authorized_keys:\n  - " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(clientPub))) + "\n" +
		"ssh_deletekeys: true\nssh_genkeytypes: []\n" +
		"ssh_keys:\n  ed25519_private: |\n" + indent(string(hostKey)) + "\n" +
		"  ed25519_public: " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostPub))) + "\n"
}

func vmUser(osName string) string {
	if strings.HasPrefix(osName, "ubuntu") {
		return "ubuntu"
	}
	return "admin"
}

// newKeyPair is a new ed25519 key: its OpenSSH private key file and its signer (whose
// PublicKey is the public half). The lab's machines, instances and VMs all log in with one.
func newKeyPair(t *testing.T) ([]byte, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), signer
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return b
}
