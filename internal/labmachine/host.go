// Package labmachine boots the simulator's instances as real machines: systemd-nspawn containers
// booted from cloud images shaped like the vendors' EC2 images (Debian 12 and 13, Ubuntu 22.04,
// 24.04 and 26.04), each in its own network namespace, its address from a DHCP server on its link,
// its user and key from the real cloud-init reading the metadata service, its disk an overlay of
// the image and the layers captured from other machines. It implements ec2sim.MachineHost by
// driving test/target/target.sh (see docs/test-lab.md).
package labmachine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// ScriptPath is where the lab's script lives below a checkout of this repository.
const ScriptPath = "test/target/target.sh"

// scriptTimeout bounds a script call that has no context of its own (cleanup); the first boot of
// an operating system builds its image, a minute or two.
const scriptTimeout = 15 * time.Minute

// Options configure a Host.
type Options struct {
	// RepoRoot is the checkout whose test/target/target.sh runs the machines.
	RepoRoot string
	// LabDir is the lab's state folder (images, machines, layers); empty: the script's default,
	// GOLDEN_LAB_DIR of the environment or .lab/ in the checkout.
	LabDir string
}

// Host is an ec2sim.MachineHost on this Linux host (root, see docs/test-lab.md). Machines and
// layers it made belong to this process: Close removes them, and so does the lab's keeper once
// the process has ended without calling Close (killed).
type Host struct {
	script string
	env    []string
	// prefix makes the names of this host's machines unique in the lab folder, which other hosts
	// (other test binaries, a simulator) may share.
	prefix    string
	bases     []string
	keeperPID int

	mu       sync.Mutex
	machines map[string]*Machine
	layers   map[string]bool
	closed   bool
}

var _ ec2sim.MachineHost = (*Host)(nil)

// New checks that the script exists and starts the keeper that cleans up after this process
// if it is killed.
func New(opts Options) (*Host, error) {
	if opts.RepoRoot == "" {
		return nil, errors.New("labmachine: no repository root")
	}
	script := filepath.Join(opts.RepoRoot, ScriptPath)
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("labmachine: the lab's script: %w", err)
	}
	h := &Host{
		script:   script,
		env:      os.Environ(),
		prefix:   randomHex(3),
		machines: map[string]*Machine{},
		layers:   map[string]bool{},
	}
	if opts.LabDir != "" {
		h.env = append(h.env, "GOLDEN_LAB_DIR="+opts.LabDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := h.run(ctx, "images")
	if err != nil {
		return nil, err
	}
	h.bases = strings.Fields(out)
	out, err = h.run(ctx, "keeper", "--owner", strconv.Itoa(os.Getpid()))
	if err != nil {
		return nil, err
	}
	h.keeperPID, _ = strconv.Atoi(strings.TrimSpace(out))
	return h, nil
}

// BaseImages lists the operating systems a machine can boot from: debian-12, debian-13,
// ubuntu-22.04, ubuntu-24.04, ubuntu-26.04. An image is built on its first boot (or beforehand
// with PrepareImage) and cached.
func (h *Host) BaseImages() []string { return append([]string(nil), h.bases...) }

// PrepareImage builds the base image of os unless it is cached, so that the first Boot of it does
// not wait for the build.
func (h *Host) PrepareImage(ctx context.Context, os string) error {
	_, err := h.run(ctx, "image", os)
	return err
}

// Boot starts a machine from spec and returns once its container runs; Booted reports when its
// network is up. Its ingress rules are in force from the first packet.
func (h *Host) Boot(ctx context.Context, spec ec2sim.MachineSpec) (ec2sim.Machine, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, errors.New("labmachine: host closed")
	}
	if spec.IMDSAddress == "" {
		return nil, errors.New("labmachine: the machine needs a metadata service address")
	}
	name := machineName(h.prefix, spec.InstanceID)
	m := &Machine{host: h, name: name}
	h.mu.Lock()
	h.machines[name] = m
	h.mu.Unlock()
	args := []string{"machine-start", name, "--os", spec.Base, "--imds", spec.IMDSAddress,
		"--ingress", encodeIngress(spec.Ingress), "--owner", strconv.Itoa(os.Getpid())}
	if len(spec.Layers) > 0 {
		args = append(args, "--layers", strings.Join(spec.Layers, ","))
	}
	out, err := h.run(ctx, args...)
	if err != nil {
		h.forget(name)
		// A start that failed has removed what it made; one whose context ended may not have.
		_, _ = h.run(context.Background(), "machine-terminate", name)
		return nil, err
	}
	info := parseInfo(out)
	for _, k := range []string{"host", "host_address", "mac", "user", "dir"} {
		if info[k] == "" {
			h.forget(name)
			_, _ = h.run(context.Background(), "machine-terminate", name)
			return nil, fmt.Errorf("labmachine: machine-start printed no %s:\n%s", k, out)
		}
	}
	m.address, m.hostAddress, m.mac, m.user, m.dir = info["host"], info["host_address"], info["mac"], info["user"], info["dir"]
	return m, nil
}

// ReleaseLayer deletes a layer CaptureDisk made; it fails while a machine's disk still uses it.
func (h *Host) ReleaseLayer(layer string) error {
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	if _, err := h.run(ctx, "release-layer", layer); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.layers, layer)
	h.mu.Unlock()
	return nil
}

// Close terminates every machine of this host and deletes every layer it captured.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	machines := make([]*Machine, 0, len(h.machines))
	for _, m := range h.machines {
		machines = append(machines, m)
	}
	layers := make([]string, 0, len(h.layers))
	for l := range h.layers {
		layers = append(layers, l)
	}
	h.mu.Unlock()

	errs := make([]error, len(machines))
	var wg sync.WaitGroup
	for i, m := range machines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.Terminate(context.Background())
		}()
	}
	wg.Wait()
	for _, l := range layers {
		errs = append(errs, h.ReleaseLayer(l))
	}
	if h.keeperPID > 0 {
		if p, err := os.FindProcess(h.keeperPID); err == nil {
			_ = p.Kill()
		}
	}
	return errors.Join(errs...)
}

func (h *Host) forget(name string) {
	h.mu.Lock()
	delete(h.machines, name)
	h.mu.Unlock()
}

// run runs the script with args and returns its stdout; an error carries its stderr.
func (h *Host) run(ctx context.Context, args ...string) (string, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, scriptTimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.script, args...)
	cmd.Env = h.env
	cmd.Dir = filepath.Dir(h.script)
	// Files, not pipes: when this process is killed, a pipe would kill the script on its next line
	// of output, halfway through a start or a stop; with a file it finishes.
	stdout, err := outputFile()
	if err != nil {
		return "", err
	}
	defer stdout.Close()
	stderr, err := outputFile()
	if err != nil {
		return "", err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A context that ends interrupts the script (it cleans up on its EXIT trap), then kills it.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	err = cmd.Run()
	out := readAll(stdout)
	if err != nil {
		return out, fmt.Errorf("labmachine: target.sh %s: %w\n%s", args[0], err, strings.TrimSpace(readAll(stderr)))
	}
	return out, nil
}

func outputFile() (*os.File, error) {
	f, err := os.CreateTemp("", "golden-lab-output-")
	if err != nil {
		return nil, fmt.Errorf("labmachine: a file for the script's output: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

func readAll(f *os.File) string {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	data, _ := io.ReadAll(f)
	return string(data)
}

func parseInfo(out string) map[string]string {
	values := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			values[k] = v
		}
	}
	return values
}

// machineName is the lab's name of an instance's machine: lowercase letters, digits and dashes,
// at most 40 characters.
func machineName(prefix, instanceID string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(instanceID) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		}
	}
	id := b.String()
	if id == "" {
		id = randomHex(8)
	}
	name := "m" + prefix + "-" + id
	if len(name) > 40 {
		name = name[:40]
	}
	return strings.TrimRight(name, "-")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// encodeIngress writes rules as the script's --ingress value: "PROTO:FROM-TO:CIDR,...;...".
// Rules without CIDRs (those naming other groups) let nothing in from the lab's host.
func encodeIngress(rules []ec2sim.IngressRule) string {
	var parts []string
	for _, r := range rules {
		// The simulator normalises protocol numbers to these names (ec2sim.IngressRule).
		proto := strings.ToLower(r.Protocol)
		if proto != "tcp" && proto != "udp" && proto != "icmp" && proto != "-1" {
			continue
		}
		var cidrs []string
		for _, c := range r.CIDRs {
			if c = strings.TrimSpace(c); c != "" {
				cidrs = append(cidrs, c)
			}
		}
		if len(cidrs) == 0 {
			continue
		}
		ports := ""
		if proto == "tcp" || proto == "udp" {
			from, to := r.FromPort, r.ToPort
			if from < 0 || to < 0 {
				from, to = 0, 65535
			}
			ports = fmt.Sprintf("%d-%d", from, to)
		}
		parts = append(parts, proto+":"+ports+":"+strings.Join(cidrs, ","))
	}
	return strings.Join(parts, ";")
}

// CallerCIDR is the block every machine's HostAddress lies in (the lab's address block,
// GOLDEN_LAB_NET, 10.213 by default): an ingress rule open to it lets this host in, whichever
// machine it is.
func CallerCIDR() string {
	net := os.Getenv("GOLDEN_LAB_NET")
	if net == "" {
		net = "10.213"
	}
	return net + ".0.0/22"
}
