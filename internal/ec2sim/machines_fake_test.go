package ec2sim_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// fakeHost is a MachineHost whose machines are records: their disk is a map of files, each
// layer a frozen copy of one. Machines get addresses 127.0.0.10, .11, ...: loopback addresses a
// test can send metadata requests from.
type fakeHost struct {
	bases     []string
	bootDelay time.Duration // until Booted reports true

	mu       sync.Mutex
	n        int
	failBoot bool
	machines map[string]*fakeMachine // by instance id
	layers   map[string]map[string]string
	released []string
}

func newFakeHost(bases ...string) *fakeHost {
	return &fakeHost{bases: bases, machines: map[string]*fakeMachine{}, layers: map[string]map[string]string{}}
}

func (h *fakeHost) BaseImages() []string { return slices.Clone(h.bases) }

func (h *fakeHost) Boot(_ context.Context, spec ec2sim.MachineSpec) (ec2sim.Machine, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failBoot {
		return nil, errors.New("no room for another machine")
	}
	if !slices.Contains(h.bases, spec.Base) {
		return nil, fmt.Errorf("no base image %s", spec.Base)
	}
	files := map[string]string{"/etc/os-release": spec.Base}
	for _, l := range spec.Layers {
		lf, ok := h.layers[l]
		if !ok {
			return nil, fmt.Errorf("layer %s does not exist", l)
		}
		maps.Copy(files, lf)
	}
	m := &fakeMachine{host: h, spec: spec, addr: fmt.Sprintf("127.0.0.%d", 10+h.n), files: files, state: "running",
		bootedAt: time.Now(), ingress: spec.Ingress, console: "[    0.000000] Linux version 6.1.0 (fake)\nbooted " + spec.InstanceID + "\n"}
	h.n++
	h.machines[spec.InstanceID] = m
	return m, nil
}

func (h *fakeHost) ReleaseLayer(layer string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.layers[layer]; !ok {
		return fmt.Errorf("layer %s released twice or never made", layer)
	}
	delete(h.layers, layer)
	h.released = append(h.released, layer)
	return nil
}

func (h *fakeHost) Close() error { return nil }

func (h *fakeHost) machine(t *testing.T, instanceID string) *fakeMachine {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	m, ok := h.machines[instanceID]
	if !ok {
		t.Fatalf("no machine was booted for %s", instanceID)
	}
	return m
}

func (h *fakeHost) liveLayers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Sorted(maps.Keys(h.layers))
}

func (h *fakeHost) releasedLayers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.released)
}

type fakeMachine struct {
	host *fakeHost
	spec ec2sim.MachineSpec
	addr string

	mu       sync.Mutex
	state    string // running, stopped, terminated
	bootedAt time.Time
	files    map[string]string
	ingress  []ec2sim.IngressRule
	console  string
	calls    []string
}

func (m *fakeMachine) Address() string { return m.addr }

// MAC is what lab machines report: the address of their interface.
func (m *fakeMachine) MAC() string { return "0e:" + m.addr[len(m.addr)-2:] + ":00:00:00:01" }

func (m *fakeMachine) Booted() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state == "running" && time.Since(m.bootedAt) >= m.host.bootDelay
}

func (m *fakeMachine) record(call string, from string, to string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, call)
	if from != "" && m.state != from {
		return fmt.Errorf("%s of a %s machine", call, m.state)
	}
	if to != "" {
		m.state = to
	}
	if to == "running" {
		m.bootedAt = time.Now()
		m.console += "booted again\n"
	}
	return nil
}

func (m *fakeMachine) Stop(context.Context) error  { return m.record("stop", "running", "stopped") }
func (m *fakeMachine) Start(context.Context) error { return m.record("start", "stopped", "running") }
func (m *fakeMachine) Reboot(context.Context) error {
	return m.record("reboot", "running", "running")
}

func (m *fakeMachine) Terminate(context.Context) error {
	if err := m.record("terminate", "", "terminated"); err != nil {
		return err
	}
	m.mu.Lock()
	m.files = nil
	m.mu.Unlock()
	return nil
}

func (m *fakeMachine) CaptureDisk(context.Context) (string, error) {
	if err := m.record("capture", "", ""); err != nil {
		return "", err
	}
	m.mu.Lock()
	files := maps.Clone(m.files)
	m.mu.Unlock()
	m.host.mu.Lock()
	defer m.host.mu.Unlock()
	layer := fmt.Sprintf("layer-%d", len(m.host.layers)+len(m.host.released)+1)
	m.host.layers[layer] = files
	return layer, nil
}

func (m *fakeMachine) SetIngress(rules []ec2sim.IngressRule) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state != "running" {
		return fmt.Errorf("SetIngress on a %s machine", m.state)
	}
	m.calls = append(m.calls, "ingress")
	m.ingress = slices.Clone(rules)
	return nil
}

func (m *fakeMachine) ConsoleOutput() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return []byte(m.console), nil
}

func (m *fakeMachine) write(path, content string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[path] = content
}

func (m *fakeMachine) file(path string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[path]
}

func (m *fakeMachine) currentState() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

func (m *fakeMachine) callLog() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

func (m *fakeMachine) rules() []ec2sim.IngressRule {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.ingress)
}
