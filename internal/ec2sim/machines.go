package ec2sim

import "context"

// A MachineHost boots the machines behind the simulator's instances: with one set in
// Options.Machines, RunInstances of an image the host has a disk for starts a real machine (in the
// test lab, a systemd-nspawn container booted from the image's root filesystem, in its own network
// namespace), and the instance's state, address, console output and disk follow that machine.
// An instance of an image the host has no disk for keeps the fixed-address behaviour
// (Options.InstanceAddress).
//
// The simulator calls a MachineHost without holding its own lock, and may call it from several
// goroutines at once.
type MachineHost interface {
	// BaseImages lists the operating systems the host can boot from scratch, by the names the
	// simulator's seeded public images map to ("debian-12", "ubuntu-22.04", "ubuntu-24.04", ...).
	BaseImages() []string

	// Boot starts a machine and returns once its address is known; the machine may still be
	// booting (Machine.Booted tells when it has). The context bounds the start only, not the
	// machine's life.
	Boot(ctx context.Context, spec MachineSpec) (Machine, error)

	// ReleaseLayer deletes a disk layer that Machine.CaptureDisk made, once no image, copy or
	// machine uses it any more.
	ReleaseLayer(layer string) error

	// Close stops every machine the host started and deletes every layer it captured.
	Close() error
}

// MachineSpec is what a machine boots.
type MachineSpec struct {
	InstanceID string
	Region     string
	// Base is the operating system of the root filesystem's bottom layer, one of BaseImages().
	Base string
	// Layers are disks captured by CaptureDisk, oldest first, laid over Base copy-on-write.
	Layers []string
	// IMDSAddress is the host:port where the machine's requests to http://169.254.169.254/ must
	// arrive; they arrive with the machine's own address as their source, which is how the
	// metadata service tells instances apart.
	IMDSAddress string
	// Ingress is the union of the instance's security groups' ingress rules. Nothing else may open
	// a connection to the machine.
	Ingress []IngressRule
}

// IngressRule lets connections in: Protocol "tcp", "udp", "icmp" or "-1" (all), ports inclusive
// (ignored for "-1" and "icmp"), from any of CIDRs.
type IngressRule struct {
	Protocol         string
	FromPort, ToPort int
	CIDRs            []string
}

// Machine is one booted (or booting, or stopped) machine.
//
// A Machine that has a method MAC() string names the hardware address of its interface: the
// metadata service reports it (mac, network/interfaces/macs/...), and cloud-init writes its
// network configuration for the interface that carries it. Without one the metadata service
// reports an address derived from the instance id, which matches no interface.
type Machine interface {
	// Address is the machine's IPv4 address on its link, reported as the instance's private and
	// public IP. It stays the same across Stop and Start.
	Address() string
	// Booted reports whether the machine has finished booting (its init system runs and its
	// network is up): the instance leaves "pending" then.
	Booted() bool
	// Stop powers the machine off and keeps its disk.
	Stop(ctx context.Context) error
	// Start boots a stopped machine again from the same disk.
	Start(ctx context.Context) error
	// Reboot restarts the running machine; the disk is kept.
	Reboot(ctx context.Context) error
	// Terminate powers the machine off and discards its disk.
	Terminate(ctx context.Context) error
	// CaptureDisk copies the machine's disk as it is now (the part above its layers) into a new
	// layer, and returns the layer's handle for MachineSpec.Layers and ReleaseLayer.
	CaptureDisk(ctx context.Context) (layer string, err error)
	// SetIngress replaces the machine's ingress rules while it runs.
	SetIngress(rules []IngressRule) error
	// ConsoleOutput is everything the machine printed on its console since it was first booted.
	ConsoleOutput() ([]byte, error)
}
