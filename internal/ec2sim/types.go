package ec2sim

import (
	"maps"
	"slices"
	"time"
)

// Image is an AMI as the simulator holds it. Values returned by the inspection methods are
// copies: keeping or changing them does not touch the server's state.
type Image struct {
	ID, Name, Description string
	OwnerID               string
	OwnerAlias            string // "amazon" for Amazon's own images, empty otherwise
	Architecture          string // x86_64 or arm64
	State                 string // pending, available, failed, disabled
	CreationDate          time.Time
	Tags                  map[string]string
	Public                bool
	LaunchPermissions     []LaunchPermission
	DeprecationTime       time.Time // zero: not deprecated
	// DeregistrationProtection is on while DeregisterImage must be refused.
	DeregistrationProtection bool
	// ProtectionCooldown: protection was enabled with a cooldown, so disabling it keeps it for 24h.
	ProtectionCooldown bool
	// ProtectedUntil: protection was disabled but the cooldown keeps the image protected until then.
	ProtectedUntil   time.Time
	RootDeviceName   string
	BlockDevices     []ImageBlockDevice
	SourceImageID    string // CopyImage: the image copied
	SourceRegion     string // CopyImage: its region
	SourceInstanceID string // CreateImage: the instance imaged
	BootMode         string
	ImdsSupport      string
	LastLaunchedTime time.Time
	// EnaSupport is the image's enhanced networking, taken from the instance it was made of.
	EnaSupport bool
}

// LaunchPermission grants launching a shared image: one of the fields is set.
type LaunchPermission struct {
	UserID                string
	Group                 string // "all" makes the image public
	OrganizationArn       string
	OrganizationalUnitArn string
}

// ImageBlockDevice is one EBS mapping of an image.
type ImageBlockDevice struct {
	DeviceName          string
	SnapshotID          string
	SizeGiB             int32
	VolumeType          string
	Encrypted           bool
	KmsKeyID            string
	DeleteOnTermination bool
}

// Snapshot is an EBS snapshot.
type Snapshot struct {
	ID, VolumeID, Description string
	OwnerID, OwnerAlias       string
	SizeGiB                   int32
	State                     string // pending, completed, error
	StartTime                 time.Time
	Encrypted                 bool
	KmsKeyID                  string
	Tags                      map[string]string
	CreateVolumePermissions   []CreateVolumePermission
}

// CreateVolumePermission shares a snapshot: one of the fields is set.
type CreateVolumePermission struct {
	UserID string
	Group  string // "all"
}

// Instance is an EC2 instance.
type Instance struct {
	ID, ImageID, InstanceType, KeyName string
	State                              string // pending, running, stopping, stopped, shutting-down, terminated
	SecurityGroupIDs                   []string
	SubnetID, VpcID, AvailabilityZone  string
	PublicIP, PrivateIP                string
	LaunchTime                         time.Time
	Tags                               map[string]string
	LaunchTemplateID                   string
	LaunchTemplateVersion              string
	Architecture                       string
	RootDeviceName                     string
	UserData                           string // base64, as sent
	MetadataOptions                    MetadataOptions
	Volumes                            []Volume
	ReservationID                      string
	StateReason                        string
	// ConsoleOutput, when set, is what GetConsoleOutput returns instead of a generated boot log.
	ConsoleOutput string
	// EnaSupport is the instance's enhanced networking, as ModifyInstanceAttribute sets it.
	EnaSupport bool
	// Lifecycle is "spot" for a Spot Instance (InstanceMarketOptions.MarketType spot), empty for
	// an On-Demand one, as DescribeInstances reports instanceLifecycle.
	Lifecycle string
	// IAMInstanceProfileARN is the instance profile the instance was launched with
	// (IamInstanceProfile.Arn, or the ARN of IamInstanceProfile.Name in the account), empty for none.
	IAMInstanceProfileARN string
}

// MetadataOptions are an instance's IMDS settings.
type MetadataOptions struct {
	HTTPTokens              string // optional or required
	HTTPEndpoint            string // enabled or disabled
	HTTPPutResponseHopLimit int32
	InstanceMetadataTags    string
}

// Volume is an EBS volume attached to an instance.
type Volume struct {
	ID, DeviceName, SnapshotID string
	SizeGiB                    int32
	VolumeType                 string
	Encrypted                  bool
	KmsKeyID                   string
	DeleteOnTermination        bool
	Tags                       map[string]string
}

// KeyPair is an EC2 key pair (the private key is never kept).
type KeyPair struct {
	ID, Name, Type, Fingerprint string
	PublicKey                   string // OpenSSH authorized_keys form
	CreateTime                  time.Time
	Tags                        map[string]string
}

// SecurityGroup is a VPC security group.
type SecurityGroup struct {
	ID, Name, Description, VpcID, OwnerID string
	Tags                                  map[string]string
	Ingress, Egress                       []Permission
}

// Permission is one security group rule set.
type Permission struct {
	Protocol         string // "tcp", "udp", "icmp" or "-1"
	FromPort, ToPort int32
	CIDRs            []string
	IPv6CIDRs        []string
	GroupIDs         []string
}

// LaunchTemplate is an EC2 launch template with its versions.
type LaunchTemplate struct {
	ID, Name       string
	DefaultVersion int64
	LatestVersion  int64
	CreateTime     time.Time
	Tags           map[string]string
	Versions       []LaunchTemplateVersion
}

// LaunchTemplateVersion is one version of a launch template.
type LaunchTemplateVersion struct {
	Number      int64
	Description string
	CreateTime  time.Time
	Data        LaunchTemplateData
}

// LaunchTemplateData is the subset of launch template data the simulator keeps.
type LaunchTemplateData struct {
	ImageID          string // an AMI id or "resolve:ssm:<parameter>", stored as given
	InstanceType     string
	KeyName          string
	SecurityGroupIDs []string
	UserData         string
	MetadataOptions  *MetadataOptions
}

func cloneTags(t map[string]string) map[string]string {
	if t == nil {
		return map[string]string{}
	}
	return maps.Clone(t)
}

func (i Image) clone() Image {
	i.Tags = cloneTags(i.Tags)
	i.LaunchPermissions = slices.Clone(i.LaunchPermissions)
	i.BlockDevices = slices.Clone(i.BlockDevices)
	return i
}

func (s Snapshot) clone() Snapshot {
	s.Tags = cloneTags(s.Tags)
	s.CreateVolumePermissions = slices.Clone(s.CreateVolumePermissions)
	return s
}

func (in Instance) clone() Instance {
	in.Tags = cloneTags(in.Tags)
	in.SecurityGroupIDs = slices.Clone(in.SecurityGroupIDs)
	in.Volumes = slices.Clone(in.Volumes)
	for i := range in.Volumes {
		in.Volumes[i].Tags = cloneTags(in.Volumes[i].Tags)
	}
	return in
}

func (k KeyPair) clone() KeyPair {
	k.Tags = cloneTags(k.Tags)
	return k
}

func (g SecurityGroup) clone() SecurityGroup {
	g.Tags = cloneTags(g.Tags)
	g.Ingress = clonePermissions(g.Ingress)
	g.Egress = clonePermissions(g.Egress)
	return g
}

func clonePermissions(ps []Permission) []Permission {
	out := slices.Clone(ps)
	for i := range out {
		out[i].CIDRs = slices.Clone(out[i].CIDRs)
		out[i].IPv6CIDRs = slices.Clone(out[i].IPv6CIDRs)
		out[i].GroupIDs = slices.Clone(out[i].GroupIDs)
	}
	return out
}

func (lt LaunchTemplate) clone() LaunchTemplate {
	lt.Tags = cloneTags(lt.Tags)
	lt.Versions = slices.Clone(lt.Versions)
	for i := range lt.Versions {
		d := &lt.Versions[i].Data
		d.SecurityGroupIDs = slices.Clone(d.SecurityGroupIDs)
		if d.MetadataOptions != nil {
			m := *d.MetadataOptions
			d.MetadataOptions = &m
		}
	}
	return lt
}
