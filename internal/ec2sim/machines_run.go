package ec2sim

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Instances on lab machines. With Options.Machines set, an instance of an image that has a disk
// (a seeded vendor image whose operating system the host can boot, or an image captured from a
// machine) is a real machine: RunInstances boots it, its state follows the machine, CreateImage
// captures its disk. Everything else keeps the fixed-address behaviour.
//
// Host calls take time and must not run under Server.mu, so the API call changes the state at
// once (pending, stopping, shutting-down) and a goroutine makes the host call and finishes the
// transition; one instance's host calls run one at a time, in the order they were asked for.

// rootDisk is what an image's or a snapshot's root volume holds in the lab: a base operating
// system and the layers captured over it, oldest first.
type rootDisk struct {
	base   string
	layers []string
}

func (d *rootDisk) with(layer string) *rootDisk {
	return &rootDisk{base: d.base, layers: append(slices.Clone(d.layers), layer)}
}

// machineRun is the lab machine behind one instance. Its fields are guarded by Server.mu
// unless said otherwise.
type machineRun struct {
	region     string
	instanceID string
	disk       *rootDisk
	mac        string
	publicKey  string // the launch key pair's public key, in authorized_keys form
	m          Machine
	address    string

	// queue passes the right to call the host from one operation to the next in the order the
	// operations were asked for (a mutex would not keep that order).
	queue chan struct{}

	// ingressKey is the rule set last handed to the machine (or to Boot) and ingressSeq counts
	// those hand-overs, so that a late update never overwrites a newer one.
	ingressKey string
	ingressSeq uint64
	// ingressMu guards ingressApplied and serialises SetIngress calls.
	ingressMu      sync.Mutex
	ingressApplied uint64
}

// labState is the simulator's side of its MachineHost.
type labState struct {
	host  MachineHost
	bases map[string]bool // BaseImages of the host
	// layers are the captured layers not yet released; guarded by Server.mu.
	layers map[string]bool

	ctx    context.Context // cancelled by Close: machine operations under way give up
	cancel context.CancelFunc
	ops    sync.WaitGroup

	imds imdsState
}

func (l *labState) init(host MachineHost) {
	l.host = host
	l.layers = map[string]bool{}
	l.bases = map[string]bool{}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.imds.tokens = map[string]imdsToken{}
	if host != nil {
		for _, b := range host.BaseImages() {
			l.bases[b] = true
		}
	}
}

// stopMachines cancels the machine operations under way and waits for them, bounded by ctx.
func (s *Server) stopMachines(ctx context.Context) {
	s.lab.cancel()
	s.stopIMDS(ctx)
	done := make(chan struct{})
	go func() { s.lab.ops.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// go runs a machine operation in the background; Close waits for it.
func (s *Server) goMachine(fn func()) {
	s.lab.ops.Add(1)
	go func() {
		defer s.lab.ops.Done()
		fn()
	}()
}

// vendorImageBase maps the names of the vendors' public images to the operating systems a host
// boots: Canonical's, Debian's and Amazon's x86_64 images.
var vendorImageBase = []struct {
	owner string
	name  *regexp.Regexp
	base  func(m []string) string
}{
	{CanonicalOwnerID, regexp.MustCompile(`^ubuntu/images/[^/]+/ubuntu-[a-z]+-(\d+\.\d+)-amd64-server-`), func(m []string) string { return "ubuntu-" + m[1] }},
	{DebianOwnerID, regexp.MustCompile(`^debian-(\d+)-amd64-`), func(m []string) string { return "debian-" + m[1] }},
	{AmazonOwnerID, regexp.MustCompile(`^al(2023)-ami-.*-x86_64$`), func(m []string) string { return "al" + m[1] }},
}

// diskOf is the lab disk an image boots, or nil when the host cannot boot it.
func (s *Server) diskOf(img *image) *rootDisk {
	if s.lab.host == nil {
		return nil
	}
	if img.disk != nil {
		return img.disk
	}
	for _, v := range vendorImageBase {
		if m := v.name.FindStringSubmatch(img.Name); m != nil && img.OwnerID == v.owner && img.Public {
			if base := v.base(m); s.lab.bases[base] {
				return &rootDisk{base: base}
			}
		}
	}
	return nil
}

// macFor is a locally administered unicast address derived from the instance id, the shape of
// the addresses EC2 gives its interfaces.
func macFor(instanceID string) string {
	d := digest(instanceID)
	return "02:" + d[0:2] + ":" + d[2:4] + ":" + d[4:6] + ":" + d[6:8] + ":" + d[8:10]
}

// dnsDomain is the domain of the private DNS names EC2 gives instances in the region.
func dnsDomain(region string) string {
	if region == "us-east-1" {
		return "ec2.internal"
	}
	return region + ".compute.internal"
}

// privateDNSName is EC2's ip-a-b-c-d name for a private address.
func privateDNSName(region, ip string) string {
	if ip == "" {
		return ""
	}
	return "ip-" + strings.ReplaceAll(ip, ".", "-") + "." + dnsDomain(region)
}

// publicDNSName has the shape of EC2's public names (ec2-a-b-c-d...) but stays in the private
// domain: nothing outside the simulator's world resolves it.
func publicDNSName(region, ip string) string {
	if ip == "" {
		return ""
	}
	return "ec2-" + strings.ReplaceAll(ip, ".", "-") + "." + dnsDomain(region)
}

var stateReasonMessages = map[string]string{
	"Server.InternalError": "Internal error on launch",
}

// farFuture keeps an image or snapshot pending until its capture finishes.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// runInstancesOnMachines launches as runInstances does, then boots a machine for every instance
// of an image with a disk.
func runInstancesOnMachines(s *Server, rs *regionState, req *request) (any, error) {
	out, err := runInstances(s, rs, req)
	if err != nil || s.lab.host == nil {
		return out, err
	}
	res := out.(*runInstancesResponse)
	for i := range res.Instances.Items {
		in := rs.instances[res.Instances.Items[i].InstanceID]
		disk := s.diskOf(rs.images[in.ImageID])
		if disk == nil {
			continue
		}
		run := &machineRun{region: rs.name, instanceID: in.ID, disk: disk, mac: macFor(in.ID), queue: make(chan struct{})}
		close(run.queue)
		if kp, ok := rs.keyPairs[in.KeyName]; ok {
			run.publicKey = kp.PublicKey
		}
		in.machine = run
		s.setAddresses(in)
		rules := s.ingressLocked(rs, in)
		run.ingressKey, run.ingressSeq = fmt.Sprint(rules), 1
		spec := MachineSpec{InstanceID: in.ID, Region: rs.name, Base: disk.base, Layers: slices.Clone(disk.layers),
			IMDSAddress: s.IMDSAddress(), Ingress: rules}
		t := run.take()
		s.goMachine(func() { s.bootMachine(run, spec, t) })
		res.Instances.Items[i] = s.instanceXML(rs, in, i)
	}
	return res, nil
}

// turn is an operation's place in the instance's queue of host calls.
type turn struct{ prev, next chan struct{} }

// take reserves the next turn at the host for an operation asked for now.
func (run *machineRun) take() turn {
	t := turn{prev: run.queue, next: make(chan struct{})}
	run.queue = t.next
	return t
}

func (t turn) wait() { <-t.prev }
func (t turn) done() { close(t.next) }

func (s *Server) bootMachine(run *machineRun, spec MachineSpec, t turn) {
	t.wait()
	m, err := s.lab.host.Boot(s.lab.ctx, spec)
	s.mu.Lock()
	in := s.regions[run.region].instances[run.instanceID]
	if err != nil {
		s.logf("%s machine for %s did not boot: %v", run.region, run.instanceID, err)
		in.State, in.StateReason = "terminated", "Server.InternalError"
		s.setAddresses(in)
	} else {
		run.m = m
		run.address = m.Address()
		if mm, ok := m.(interface{ MAC() string }); ok && mm.MAC() != "" {
			run.mac = mm.MAC()
		}
		s.setAddresses(in)
	}
	updates := s.machineUpdatesLocked()
	s.mu.Unlock()
	t.done()
	updates()
	if err == nil {
		s.untilBooted(run, m, "pending", "running")
	}
}

// untilBooted waits for the machine to finish booting, then moves the instance from state to
// next unless something else moved it meanwhile.
func (s *Server) untilBooted(run *machineRun, m Machine, state, next string) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !m.Booted() {
		select {
		case <-s.lab.ctx.Done():
			return
		case <-tick.C:
		}
		s.mu.Lock()
		moved := s.regions[run.region].instances[run.instanceID].State != state
		s.mu.Unlock()
		if moved {
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.regions[run.region].instances[run.instanceID]; in.State == state {
		in.State = next
		s.setAddresses(in)
	}
}

// machineOp runs one host call for an instance that is in state expect when its turn comes, and
// then moves it to next (or to failed, with a state reason, when the call fails).
type machineOp struct {
	expect, next, failed string
	call                 func(ctx context.Context, m Machine) error
	waitBoot             bool // next only once the machine has booted again
}

func (s *Server) startMachineOp(rs *regionState, in *instance, op machineOp) {
	run := in.machine
	t := run.take()
	s.goMachine(func() {
		t.wait()
		s.mu.Lock()
		m, state := run.m, s.regions[run.region].instances[run.instanceID].State
		s.mu.Unlock()
		if m == nil || state != op.expect {
			t.done()
			return
		}
		err := op.call(s.lab.ctx, m)
		if err != nil {
			s.logf("%s machine of %s: %v", run.region, run.instanceID, err)
		}
		t.done()
		s.mu.Lock()
		in := s.regions[run.region].instances[run.instanceID]
		if in.State == op.expect && (err != nil || !op.waitBoot) {
			in.State = op.next
			if err != nil && op.failed != "" {
				in.State, in.StateReason = op.failed, "Server.InternalError"
			}
			s.setAddresses(in)
		}
		if err == nil && op.waitBoot {
			run.ingressKey = "" // a machine started again gets the rules its groups have now
		}
		updates := s.machineUpdatesLocked()
		s.mu.Unlock()
		updates()
		if err == nil && op.waitBoot {
			s.untilBooted(run, m, op.expect, op.next)
		}
	})
}

var (
	stopOp = machineOp{expect: "stopping", next: "stopped", failed: "running",
		call: func(ctx context.Context, m Machine) error { return m.Stop(ctx) }}
	startOp = machineOp{expect: "pending", next: "running", failed: "stopped", waitBoot: true,
		call: func(ctx context.Context, m Machine) error { return m.Start(ctx) }}
	terminateOp = machineOp{expect: "shutting-down", next: "terminated",
		call: func(ctx context.Context, m Machine) error { return m.Terminate(ctx) }}
	rebootOp = machineOp{expect: "running", next: "running",
		call: func(ctx context.Context, m Machine) error { return m.Reboot(ctx) }}
)

// onMachines wraps a state change: the instances on machines whose state it changed get the
// host call that finishes the change.
func onMachines(change handler) handler {
	return func(s *Server, rs *regionState, req *request) (any, error) {
		out, err := change(s, rs, req)
		if err != nil {
			return out, err
		}
		for _, item := range out.(*stateChangeResponse).Instances.Items {
			in := rs.instances[item.InstanceID]
			if in.machine == nil || item.CurrentState == item.PreviousState {
				continue
			}
			in.StateReason = ""
			switch in.State {
			case "stopping":
				s.startMachineOp(rs, in, stopOp)
			case "pending":
				s.startMachineOp(rs, in, startOp)
			case "shutting-down":
				s.startMachineOp(rs, in, terminateOp)
			}
		}
		return out, nil
	}
}

// rebootInstances reboots running instances; like EC2 it answers at once and the instance stays
// running. An instance that is not running cannot be rebooted.
func rebootInstances(s *Server, rs *regionState, req *request) (any, error) {
	list, err := s.namedInstances(rs, req)
	if err != nil {
		return nil, err
	}
	for _, in := range list {
		if in.State != "running" && in.State != "pending" {
			return nil, errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be rebooted.", in.ID)
		}
	}
	for _, in := range list {
		if in.machine != nil {
			s.startMachineOp(rs, in, rebootOp)
		}
	}
	return ok(), nil
}

// createImageOnMachine images as createImage does; an instance on a machine has its disk
// captured, and the image stays pending until the capture is done. Without NoReboot a running
// machine is shut down for the capture and booted again, as EC2 does.
func createImageOnMachine(s *Server, rs *regionState, req *request) (any, error) {
	out, err := createImage(s, rs, req)
	if err != nil {
		return out, err
	}
	in := rs.instances[req.params.get("InstanceId")]
	if in.machine == nil {
		return out, nil
	}
	img := rs.images[out.(*imageIDResponse).ImageID]
	var root *snapshot
	for _, bd := range img.BlockDevices {
		if bd.DeviceName == img.RootDeviceName {
			root = rs.snapshots[bd.SnapshotID]
		}
	}
	imgReady := img.readyAt
	img.readyAt = farFuture
	var snapReady time.Time
	if root != nil {
		snapReady, root.readyAt = root.readyAt, farFuture
	}
	noReboot := req.params.boolean("NoReboot")
	run := in.machine
	t := run.take()
	s.goMachine(func() {
		t.wait()
		layer, err := s.capture(run, noReboot)
		t.done()
		s.mu.Lock()
		now := time.Now()
		if err != nil {
			s.logf("%s CreateImage %s of %s: %v", run.region, img.ID, run.instanceID, err)
			img.State = "failed"
			if root != nil {
				root.State = "error"
			}
		} else {
			s.lab.layers[layer] = true
			disk := run.disk.with(layer)
			img.disk, img.readyAt = disk, later(now, imgReady)
			if root != nil {
				root.disk, root.readyAt = disk, later(now, snapReady)
			}
		}
		updates := s.machineUpdatesLocked()
		s.mu.Unlock()
		updates()
	})
	return out, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// capture copies the machine's disk into a new layer. Its caller holds the instance's turn.
func (s *Server) capture(run *machineRun, noReboot bool) (string, error) {
	ctx := s.lab.ctx
	s.mu.Lock()
	m, state := run.m, s.regions[run.region].instances[run.instanceID].State
	s.mu.Unlock()
	if m == nil {
		return "", fmt.Errorf("the instance has no machine")
	}
	if state != "running" || noReboot {
		return m.CaptureDisk(ctx)
	}
	if err := m.Stop(ctx); err != nil {
		return "", fmt.Errorf("shutting the machine down for the capture: %w", err)
	}
	layer, err := m.CaptureDisk(ctx)
	s.mu.Lock()
	state = s.regions[run.region].instances[run.instanceID].State
	s.mu.Unlock()
	if state == "running" {
		if serr := m.Start(ctx); serr != nil {
			s.logf("%s machine of %s did not start again after the capture: %v", run.region, run.instanceID, serr)
		}
	}
	return layer, err
}

// copyImageWithDisk copies as copyImage does; the copy of an image with a disk boots the same
// disk (the layers are shared, not copied).
func copyImageWithDisk(s *Server, rs *regionState, req *request) (any, error) {
	out, err := copyImage(s, rs, req)
	if err != nil || s.lab.host == nil {
		return out, err
	}
	src := s.regionLocked(req.params.get("SourceRegion")).images[req.params.get("SourceImageId")]
	disk := src.disk
	if disk == nil {
		return out, nil
	}
	img := rs.images[out.(*imageIDResponse).ImageID]
	img.disk = disk
	for _, bd := range img.BlockDevices {
		if bd.DeviceName == img.RootDeviceName {
			rs.snapshots[bd.SnapshotID].disk = disk
		}
	}
	return out, nil
}

// getConsoleOutputOfMachine answers GetConsoleOutput of an instance on a machine with the
// machine's console, the last 64 KiB of it as EC2 keeps; others get getConsoleOutput's answer.
func getConsoleOutputOfMachine(s *Server, rs *regionState, req *request) (any, error) {
	out, err := getConsoleOutput(s, rs, req)
	if err != nil {
		return out, err
	}
	in := rs.instances[req.params.get("InstanceId")]
	if in.machine == nil || in.ConsoleOutput != "" {
		return out, nil
	}
	resp := out.(*consoleOutputResponse)
	resp.Output = ""
	m := in.machine.m
	if m == nil {
		return resp, nil
	}
	return outsideLock(func() (any, error) {
		text, err := m.ConsoleOutput()
		if err != nil {
			s.mu.Lock()
			gone := in.State == "shutting-down" || in.State == "terminated"
			s.mu.Unlock()
			if gone {
				// The console went with the machine: no output, as for an instance that printed
				// nothing.
				return resp, nil
			}
			return nil, fmt.Errorf("reading the console of %s: %w", resp.InstanceID, err)
		}
		const keep = 64 << 10
		if len(text) > keep {
			text = text[len(text)-keep:]
		}
		if len(text) > 0 {
			resp.Output = base64.StdEncoding.EncodeToString(text)
		}
		return resp, nil
	}), nil
}

// machineUpdatesLocked works out what the host must hear after a change of state: new ingress
// rules for running machines, and captured layers nothing uses any more. The returned function
// tells it, without the lock.
func (s *Server) machineUpdatesLocked() func() {
	if s.lab.host == nil {
		return func() {}
	}
	type ingressUpdate struct {
		run   *machineRun
		m     Machine
		rules []IngressRule
		seq   uint64
	}
	var ingress []ingressUpdate
	inUse := map[string]bool{}
	use := func(d *rootDisk) {
		if d != nil {
			for _, l := range d.layers {
				inUse[l] = true
			}
		}
	}
	for _, rs := range s.regions {
		for _, img := range rs.images {
			use(img.disk)
		}
		for _, sn := range rs.snapshots {
			use(sn.disk)
		}
		for _, in := range rs.instances {
			run := in.machine
			if run == nil || in.State == "terminated" {
				continue
			}
			use(run.disk)
			if run.m == nil || (in.State != "pending" && in.State != "running") {
				continue // SetIngress is for running machines; Start brings the rules up to date
			}
			rules := s.ingressLocked(rs, in)
			if key := fmt.Sprint(rules); key != run.ingressKey {
				run.ingressKey = key
				run.ingressSeq++
				ingress = append(ingress, ingressUpdate{run, run.m, rules, run.ingressSeq})
			}
		}
	}
	var release []string
	for l := range s.lab.layers {
		if !inUse[l] {
			delete(s.lab.layers, l)
			release = append(release, l)
		}
	}
	if len(ingress)+len(release) == 0 {
		return func() {}
	}
	return func() {
		for _, u := range ingress {
			u.run.ingressMu.Lock()
			if u.seq > u.run.ingressApplied {
				u.run.ingressApplied = u.seq
				if err := u.m.SetIngress(u.rules); err != nil {
					s.logf("%s security groups of %s: %v", u.run.region, u.run.instanceID, err)
				}
			}
			u.run.ingressMu.Unlock()
		}
		for _, l := range release {
			if err := s.lab.host.ReleaseLayer(l); err != nil {
				s.logf("releasing disk layer %s: %v", l, err)
			}
		}
	}
}

// ingressLocked is what the instance's security groups let in: their rules with IPv4 sources,
// a group named as source standing for the addresses of the machines in that group.
func (s *Server) ingressLocked(rs *regionState, in *instance) []IngressRule {
	var out []IngressRule
	for _, gid := range in.SecurityGroupIDs {
		g, ok := rs.groups[gid]
		if !ok {
			continue
		}
		for _, p := range g.Ingress {
			switch p.Protocol {
			case "tcp", "udp", "icmp", "-1":
			default:
				continue // the lab filters these protocols only
			}
			cidrs := slices.Clone(p.CIDRs)
			for _, src := range p.GroupIDs {
				cidrs = append(cidrs, rs.machineAddressesIn(src)...)
			}
			if len(cidrs) == 0 {
				continue
			}
			r := IngressRule{Protocol: p.Protocol, CIDRs: cidrs}
			if p.Protocol == "tcp" || p.Protocol == "udp" {
				r.FromPort, r.ToPort = int(p.FromPort), int(p.ToPort)
			}
			out = append(out, r)
		}
	}
	return out
}

// machineAddressesIn lists, as /32 networks, the addresses of the live machines in a group.
func (rs *regionState) machineAddressesIn(groupID string) []string {
	var out []string
	for _, in := range sortedBySeq(rs.instances) {
		if in.machine != nil && in.machine.address != "" && slices.Contains(in.SecurityGroupIDs, groupID) {
			switch in.State {
			case "pending", "running", "stopping":
				out = append(out, in.machine.address+"/32")
			}
		}
	}
	return out
}
