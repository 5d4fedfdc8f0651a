package ec2sim

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Owners of the public images every region is seeded with.
const (
	CanonicalOwnerID = "099720109477"
	DebianOwnerID    = "136693071363"
	AmazonOwnerID    = "137112412989"
)

// publicImage is a public image every region starts with, and the SSM parameters naming it.
type publicImage struct {
	name, description, owner, alias, arch, rootDevice string
	created                                           string
	params                                            []string
}

// publicImages mirror the public images and /aws/service parameters that base images are
// found through. The older jammy build is there so "most recent" selection has a choice.
var publicImages = []publicImage{
	{name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240207.1", description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-02-07",
		owner: CanonicalOwnerID, arch: "x86_64", rootDevice: "/dev/sda1", created: "2024-02-07T10:12:44.000Z"},
	{name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301", description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-03-01",
		owner: CanonicalOwnerID, arch: "x86_64", rootDevice: "/dev/sda1", created: "2024-03-01T08:32:11.000Z",
		params: []string{"/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"}},
	{name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20240301", description: "Canonical, Ubuntu, 22.04 LTS, arm64 jammy image build on 2024-03-01",
		owner: CanonicalOwnerID, arch: "arm64", rootDevice: "/dev/sda1", created: "2024-03-01T08:35:52.000Z",
		params: []string{"/aws/service/canonical/ubuntu/server/22.04/stable/current/arm64/hvm/ebs-gp2/ami-id"}},
	{name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423", description: "Canonical, Ubuntu, 24.04 LTS, amd64 noble image build on 2024-04-23",
		owner: CanonicalOwnerID, arch: "x86_64", rootDevice: "/dev/sda1", created: "2024-04-23T11:05:27.000Z",
		params: []string{"/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"}},
	{name: "ubuntu/images/hvm-ssd-gp3/ubuntu-resolute-26.04-amd64-server-20260424", description: "Canonical, Ubuntu, 26.04 LTS, amd64 resolute image",
		owner: CanonicalOwnerID, arch: "x86_64", rootDevice: "/dev/sda1", created: "2026-04-24T09:14:37.000Z",
		params: []string{"/aws/service/canonical/ubuntu/server/26.04/stable/current/amd64/hvm/ebs-gp3/ami-id"}},
	{name: "ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20240228", description: "Canonical, Ubuntu, 20.04 LTS, amd64 focal image build on 2024-02-28",
		owner: CanonicalOwnerID, arch: "x86_64", rootDevice: "/dev/sda1", created: "2024-02-28T07:41:03.000Z",
		params: []string{"/aws/service/canonical/ubuntu/server/20.04/stable/current/amd64/hvm/ebs-gp2/ami-id"}},
	{name: "debian-12-amd64-20240211-1654", description: "Debian 12 (20240211-1654)",
		owner: DebianOwnerID, arch: "x86_64", rootDevice: "/dev/xvda", created: "2024-02-11T17:21:09.000Z",
		params: []string{"/aws/service/debian/release/12/latest/amd64", "/aws/service/debian/release/bookworm/latest/amd64"}},
	{name: "debian-12-arm64-20240211-1654", description: "Debian 12 (20240211-1654)",
		owner: DebianOwnerID, arch: "arm64", rootDevice: "/dev/xvda", created: "2024-02-11T17:24:50.000Z",
		params: []string{"/aws/service/debian/release/12/latest/arm64", "/aws/service/debian/release/bookworm/latest/arm64"}},
	{name: "debian-13-amd64-20251117-2299", description: "Debian 13 (20251117-2299)",
		owner: DebianOwnerID, arch: "x86_64", rootDevice: "/dev/xvda", created: "2025-11-17T20:41:52.000Z",
		params: []string{"/aws/service/debian/release/13/latest/amd64", "/aws/service/debian/release/trixie/latest/amd64"}},
	{name: "debian-11-amd64-20240211-1654", description: "Debian 11 (20240211-1654)",
		owner: DebianOwnerID, arch: "x86_64", rootDevice: "/dev/xvda", created: "2024-02-11T17:30:33.000Z",
		params: []string{"/aws/service/debian/release/11/latest/amd64", "/aws/service/debian/release/bullseye/latest/amd64"}},
	{name: "al2023-ami-2023.4.20240319.1-kernel-6.1-x86_64", description: "Amazon Linux 2023 AMI 2023.4.20240319.1 x86_64 HVM kernel-6.1",
		owner: AmazonOwnerID, alias: "amazon", arch: "x86_64", rootDevice: "/dev/xvda", created: "2024-03-19T22:09:46.000Z",
		params: []string{"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}},
}

// seedRegionLocked creates what exists in every AWS region before anyone uses it.
func (s *Server) seedRegionLocked(rs *regionState) {
	s.seedEBSManagedKey(rs)
	v := &vpc{seq: s.next(), id: stableID("vpc", rs.name), cidr: "172.31.0.0/16", isDefault: true, tags: map[string]string{}}
	rs.vpcs[v.id] = v
	for i, z := range zones(rs.name) {
		sn := &subnet{seq: s.next(), id: stableID("subnet", rs.name, z), vpcID: v.id, zone: z, zoneID: zoneID(z),
			cidr: fmt.Sprintf("172.31.%d.0/20", i*16), defaultForAZ: true, tags: map[string]string{}}
		rs.subnets[sn.id] = sn
	}
	sg := &securityGroup{seq: s.next(), isDefault: true, SecurityGroup: SecurityGroup{
		ID: stableID("sg", rs.name, "default"), Name: "default", Description: "default VPC security group",
		VpcID: v.id, OwnerID: s.opts.AccountID, Tags: map[string]string{},
		Egress: []Permission{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}},
	}}
	sg.Ingress = []Permission{{Protocol: "-1", GroupIDs: []string{sg.ID}}}
	rs.groups[sg.ID] = sg

	for _, p := range publicImages {
		created, _ := time.Parse(time.RFC3339, p.created)
		id := stableID("ami", rs.name, p.name)
		s.addImageLocked(rs, ImageSeed{
			ID: id, Name: p.name, Description: p.description, OwnerID: p.owner, OwnerAlias: p.alias,
			Architecture: p.arch, CreationDate: created, Public: true, RootDeviceName: p.rootDevice,
			Snapshots: []SnapshotSeed{{ID: stableID("snap", rs.name, p.name), SizeGiB: 8}},
		})
		for _, name := range p.params {
			s.putParameterLocked(rs, name, id, "text", "String", created)
		}
	}
}

// ImageSeed describes an image to create directly, without CreateImage.
type ImageSeed struct {
	ID           string            `json:"id,omitempty"` // generated when empty
	Name         string            `json:"name"`
	Description  string            `json:"description,omitempty"`
	OwnerID      string            `json:"ownerId,omitempty"`    // default: the simulator's account
	OwnerAlias   string            `json:"ownerAlias,omitempty"` // e.g. "amazon"
	Architecture string            `json:"architecture,omitempty"`
	State        string            `json:"state,omitempty"` // default available
	CreationDate time.Time         `json:"creationDate,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	Public       bool              `json:"public,omitempty"`
	// SharedWith are account ids given launch permission.
	SharedWith               []string       `json:"sharedWith,omitempty"`
	DeprecationTime          time.Time      `json:"deprecationTime,omitempty"`
	DeregistrationProtection bool           `json:"deregistrationProtection,omitempty"`
	Snapshots                []SnapshotSeed `json:"snapshots,omitempty"` // default: one 8 GiB root snapshot
	SourceImageID            string         `json:"sourceImageId,omitempty"`
	SourceRegion             string         `json:"sourceRegion,omitempty"`
	RootDeviceName           string         `json:"rootDeviceName,omitempty"` // default /dev/xvda
	LastLaunchedTime         time.Time      `json:"lastLaunchedTime,omitempty"`
}

// SnapshotSeed is a snapshot backing a seeded image, one per block device in order.
type SnapshotSeed struct {
	ID        string `json:"id,omitempty"`
	SizeGiB   int32  `json:"sizeGiB,omitempty"` // default 8
	Encrypted bool   `json:"encrypted,omitempty"`
	// KmsKeyID of an encrypted snapshot: a key id, key ARN, alias or alias ARN. A key the
	// simulator knows is recorded as its key ARN, as EC2 reports it; empty means the region's
	// aws/ebs key.
	KmsKeyID string `json:"kmsKeyId,omitempty"`
}

// AddImage creates an image (and its snapshots) in region and returns its id.
func (s *Server) AddImage(region string, img ImageSeed) string {
	var id string
	s.withRegion(region, func(rs *regionState) { id = s.addImageLocked(rs, img) })
	return id
}

func (s *Server) addImageLocked(rs *regionState, seed ImageSeed) string {
	if seed.ID == "" {
		seed.ID = s.newID("ami")
	}
	img := &image{seq: s.next(), Image: Image{
		ID: seed.ID, Name: seed.Name, Description: seed.Description, OwnerID: seed.OwnerID,
		OwnerAlias: seed.OwnerAlias, Architecture: seed.Architecture, State: seed.State,
		CreationDate: seed.CreationDate, Tags: cloneTags(seed.Tags), Public: seed.Public,
		DeprecationTime: seed.DeprecationTime, DeregistrationProtection: seed.DeregistrationProtection,
		RootDeviceName: seed.RootDeviceName, SourceImageID: seed.SourceImageID, SourceRegion: seed.SourceRegion,
		BootMode: "uefi-preferred", LastLaunchedTime: seed.LastLaunchedTime, EnaSupport: true,
	}}
	if img.OwnerID == "" {
		img.OwnerID = s.opts.AccountID
	}
	if img.Architecture == "" {
		img.Architecture = "x86_64"
	}
	if img.State == "" {
		img.State = "available"
	}
	if img.State == "pending" {
		img.readyAt = time.Now().Add(s.delays.ImagePending)
	}
	if img.CreationDate.IsZero() {
		img.CreationDate = time.Now().UTC()
	}
	if img.RootDeviceName == "" {
		img.RootDeviceName = "/dev/xvda"
	}
	for _, account := range seed.SharedWith {
		img.LaunchPermissions = append(img.LaunchPermissions, LaunchPermission{UserID: account})
	}
	snaps := seed.Snapshots
	if len(snaps) == 0 {
		snaps = []SnapshotSeed{{}}
	}
	for i, ss := range snaps {
		if ss.ID == "" {
			ss.ID = s.newID("snap")
		}
		if ss.SizeGiB == 0 {
			ss.SizeGiB = 8
		}
		if ss.Encrypted {
			ss.KmsKeyID = s.ebsKeyARN(rs, ss.KmsKeyID)
		}
		device := img.RootDeviceName
		if i > 0 {
			device = "/dev/sd" + string(rune('b'+i-1))
		}
		sn := &snapshot{seq: s.next(), Snapshot: Snapshot{
			ID: ss.ID, VolumeID: "vol-ffffffff", OwnerID: img.OwnerID, OwnerAlias: img.OwnerAlias,
			SizeGiB: ss.SizeGiB, State: "completed", StartTime: img.CreationDate,
			Encrypted: ss.Encrypted, KmsKeyID: ss.KmsKeyID, Tags: map[string]string{},
			Description: fmt.Sprintf("Created by CreateImage for %s", img.ID),
		}}
		if img.Public {
			sn.CreateVolumePermissions = []CreateVolumePermission{{Group: "all"}}
		}
		rs.snapshots[sn.ID] = sn
		img.BlockDevices = append(img.BlockDevices, ImageBlockDevice{
			DeviceName: device, SnapshotID: sn.ID, SizeGiB: ss.SizeGiB, VolumeType: "gp3",
			Encrypted: ss.Encrypted, KmsKeyID: ss.KmsKeyID, DeleteOnTermination: true,
		})
	}
	rs.images[img.ID] = img
	return img.ID
}

// InstanceSeed describes an instance to create directly, without RunInstances.
type InstanceSeed struct {
	ID               string            `json:"id,omitempty"`
	ImageID          string            `json:"imageId"`
	State            string            `json:"state,omitempty"`        // default running
	InstanceType     string            `json:"instanceType,omitempty"` // default t3.micro
	Tags             map[string]string `json:"tags,omitempty"`
	LaunchTemplateID string            `json:"launchTemplateId,omitempty"`
}

// AddInstance creates an instance in region, in the default subnet of the first zone, and
// returns its id. The image need not exist: instances outlive the images they started from.
func (s *Server) AddInstance(region string, seed InstanceSeed) string {
	var id string
	s.withRegion(region, func(rs *regionState) {
		if seed.ID == "" {
			seed.ID = s.newID("i")
		}
		if seed.State == "" {
			seed.State = "running"
		}
		if seed.InstanceType == "" {
			seed.InstanceType = "t3.micro"
		}
		sn := rs.defaultSubnet(zones(region)[0])
		in := &instance{seq: s.next(), Instance: Instance{
			ID: seed.ID, ImageID: seed.ImageID, State: seed.State, InstanceType: seed.InstanceType,
			Tags: cloneTags(seed.Tags), LaunchTemplateID: seed.LaunchTemplateID,
			SubnetID: sn.id, VpcID: sn.vpcID, AvailabilityZone: sn.zone,
			SecurityGroupIDs: []string{rs.defaultGroup(sn.vpcID).ID}, EnaSupport: true,
			LaunchTime: time.Now().UTC(), Architecture: architectureOf(seed.InstanceType),
			RootDeviceName: "/dev/xvda", ReservationID: s.newID("r"),
			MetadataOptions: MetadataOptions{HTTPTokens: "required", HTTPEndpoint: "enabled", HTTPPutResponseHopLimit: 2, InstanceMetadataTags: "disabled"},
		}}
		if img, ok := rs.images[seed.ImageID]; ok {
			in.Architecture = img.Architecture
			in.RootDeviceName = img.RootDeviceName
		}
		if seed.LaunchTemplateID != "" {
			in.LaunchTemplateVersion = "1"
		}
		// Transitional states last their delay from now, as if the instance had just entered them.
		s.setState(in, seed.State, time.Now())
		rs.instances[in.ID] = in
		id = in.ID
	})
	return id
}

// LaunchTemplateSeed describes a launch template whose versions only set an image.
type LaunchTemplateSeed struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
	// Versions are the image ids of versions 1..N, as stored: an AMI id or "resolve:ssm:<name>".
	Versions       []string          `json:"versions"`
	DefaultVersion int               `json:"defaultVersion,omitempty"` // default 1
	Tags           map[string]string `json:"tags,omitempty"`
}

// AddLaunchTemplate creates a launch template in region and returns its id.
func (s *Server) AddLaunchTemplate(region string, seed LaunchTemplateSeed) string {
	var id string
	s.withRegion(region, func(rs *regionState) {
		if seed.ID == "" {
			seed.ID = s.newID("lt")
		}
		now := time.Now().UTC()
		lt := &launchTemplate{seq: s.next(), LaunchTemplate: LaunchTemplate{
			ID: seed.ID, Name: seed.Name, CreateTime: now, Tags: cloneTags(seed.Tags), DefaultVersion: 1,
		}}
		if seed.DefaultVersion > 0 {
			lt.DefaultVersion = int64(seed.DefaultVersion)
		}
		for i, imageID := range seed.Versions {
			lt.Versions = append(lt.Versions, LaunchTemplateVersion{
				Number: int64(i + 1), CreateTime: now, Data: LaunchTemplateData{ImageID: imageID},
			})
		}
		lt.LatestVersion = int64(len(lt.Versions))
		rs.templates[lt.ID] = lt
		id = lt.ID
	})
	return id
}

// AddLaunchConfiguration creates an Auto Scaling launch configuration using imageID.
func (s *Server) AddLaunchConfiguration(region, name, imageID string) {
	s.withRegion(region, func(rs *regionState) {
		rs.launchConfigs[name] = &launchConfiguration{seq: s.next(), name: name, imageID: imageID,
			instanceType: "t3.micro", created: time.Now().UTC()}
	})
}

// ASGSeed describes an Auto Scaling group. Give a launch configuration, or a launch template
// (id or name) with a version; MixedInstancesPolicy puts the template inside a mixed
// instances policy instead of the group's own LaunchTemplate.
type ASGSeed struct {
	Name                    string            `json:"name"`
	LaunchConfigurationName string            `json:"launchConfigurationName,omitempty"`
	LaunchTemplateID        string            `json:"launchTemplateId,omitempty"`
	LaunchTemplateName      string            `json:"launchTemplateName,omitempty"`
	LaunchTemplateVersion   string            `json:"launchTemplateVersion,omitempty"` // "$Default" (default), "$Latest" or a number
	MixedInstancesPolicy    bool              `json:"mixedInstancesPolicy,omitempty"`
	Tags                    map[string]string `json:"tags,omitempty"`
}

// AddAutoScalingGroup creates an Auto Scaling group. A template named by id gets its name
// filled in and vice versa, as DescribeAutoScalingGroups reports both.
func (s *Server) AddAutoScalingGroup(region string, g ASGSeed) {
	s.withRegion(region, func(rs *regionState) {
		asg := &autoScalingGroup{seq: s.next(), name: g.Name, launchConfiguration: g.LaunchConfigurationName,
			launchTemplateID: g.LaunchTemplateID, launchTemplateName: g.LaunchTemplateName,
			launchTemplateVersion: g.LaunchTemplateVersion, mixed: g.MixedInstancesPolicy,
			created: time.Now().UTC(), tags: cloneTags(g.Tags)}
		if asg.launchTemplateID != "" || asg.launchTemplateName != "" {
			if lt := rs.findTemplate(asg.launchTemplateID, asg.launchTemplateName); lt != nil {
				asg.launchTemplateID, asg.launchTemplateName = lt.ID, lt.Name
			}
			if asg.launchTemplateVersion == "" {
				asg.launchTemplateVersion = "$Default"
			}
		}
		rs.groupsASG[g.Name] = asg
	})
}

// PutParameter sets an SSM parameter (type String), creating a new version when it exists.
// dataType is "text" (default) or "aws:ec2:image"; no validation is done.
func (s *Server) PutParameter(region, name, value, dataType string) {
	s.withRegion(region, func(rs *regionState) {
		s.putParameterLocked(rs, name, value, dataType, "String", time.Now().UTC())
	})
}

func (s *Server) putParameterLocked(rs *regionState, name, value, dataType, typ string, at time.Time) int64 {
	if dataType == "" {
		dataType = "text"
	}
	p, ok := rs.params[name]
	if !ok {
		p = &parameter{seq: s.next(), name: name, typ: typ, dataType: dataType, tier: "Standard"}
		rs.params[name] = p
	}
	version := int64(1)
	if len(p.history) > 0 {
		version = p.current().version + 1
	}
	p.dataType = dataType
	p.history = append(p.history, parameterVersion{version: version, value: value, modified: at})
	return version
}

// SetConsoleOutput makes GetConsoleOutput of the instance return text.
func (s *Server) SetConsoleOutput(region, instanceID, text string) bool {
	found := false
	s.withRegion(region, func(rs *regionState) {
		if in, ok := rs.instances[instanceID]; ok {
			in.ConsoleOutput = text
			found = true
		}
	})
	return found
}

func (rs *regionState) defaultSubnet(zone string) *subnet {
	for _, sn := range sortedBySeq(rs.subnets) {
		if sn.defaultForAZ && (zone == "" || sn.zone == zone) {
			return sn
		}
	}
	return nil
}

func (rs *regionState) defaultVPC() *vpc {
	for _, v := range rs.vpcs {
		if v.isDefault {
			return v
		}
	}
	return nil
}

func (rs *regionState) defaultGroup(vpcID string) *securityGroup {
	for _, g := range rs.groups {
		if g.isDefault && g.VpcID == vpcID {
			return g
		}
	}
	return nil
}

func (rs *regionState) findTemplate(id, name string) *launchTemplate {
	if id != "" {
		return rs.templates[id]
	}
	for _, lt := range rs.templates {
		if lt.Name == name {
			return lt
		}
	}
	return nil
}

// setAddresses gives a live instance the configured address, public and private alike, so
// whatever address a client picks reaches the test's SSH target.
// An instance on a lab machine has the machine's address, once its host has given one.
func (s *Server) setAddresses(in *instance) {
	addr := s.opts.InstanceAddress
	if in.machine != nil {
		addr = in.machine.address
	}
	switch in.State {
	case "pending", "running", "stopping":
		in.PublicIP = addr
		in.PrivateIP = addr
	case "stopped":
		in.PublicIP = ""
		in.PrivateIP = addr
	default:
		in.PublicIP, in.PrivateIP = "", ""
	}
}

// architectureOf guesses the architecture from the instance family: Graviton families carry a
// "g" after the generation (t4g, m7g, c6gn, x2gd) and a1 was the first.
func architectureOf(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	gen := strings.IndexFunc(family, unicode.IsDigit)
	if family == "a1" || gen > 0 && strings.ContainsRune(family[gen+1:], 'g') {
		return "arm64"
	}
	return "x86_64"
}
