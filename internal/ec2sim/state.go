package ec2sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// knownRegions are the commercial regions the simulator answers for; a request signed for any
// other region is refused the way AWS refuses a credential scoped to an unknown region.
var knownRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

func knownRegion(name string) bool {
	_, found := slices.BinarySearch(knownRegions, name)
	return found
}

// Regions lists the regions the simulator answers for.
func Regions() []string { return slices.Clone(knownRegions) }

// regionState is everything that exists in one region. It is guarded by Server.mu.
type regionState struct {
	name          string
	images        map[string]*image
	deregistered  map[string]*deregisteredImage // images EC2 still knows after DeregisterImage
	snapshots     map[string]*snapshot
	instances     map[string]*instance
	keyPairs      map[string]*keyPair // by name
	groups        map[string]*securityGroup
	vpcs          map[string]*vpc
	subnets       map[string]*subnet
	templates     map[string]*launchTemplate
	launchConfigs map[string]*launchConfiguration
	groupsASG     map[string]*autoScalingGroup
	params        map[string]*parameter
	kmsKeys       map[string]*kmsKey // by key id
	kmsAliases    map[string]*kmsKey // by alias name, "alias/..."
	idempotent    map[string]any     // action/ClientToken -> first response
}

// seq orders resources by creation, so listings and pagination are stable.
type seq struct{ seq int64 }

type image struct {
	seq
	Image
	readyAt time.Time // pending -> available
	disk    *rootDisk // what a lab machine boots from it; nil: no disk, fixed-address instances
}

type snapshot struct {
	seq
	Snapshot
	readyAt time.Time // pending -> completed
	disk    *rootDisk // the lab disk the snapshot stands for, if any
}

type instance struct {
	seq
	Instance
	transitionAt time.Time   // the end of pending, stopping or shutting-down
	machine      *machineRun // the lab machine behind the instance; its transitions drive the state
}

type keyPair struct {
	seq
	KeyPair
}

type securityGroup struct {
	seq
	SecurityGroup
	isDefault bool
}

type vpc struct {
	seq
	id, cidr  string
	isDefault bool
	tags      map[string]string
}

type subnet struct {
	seq
	id, vpcID, cidr, zone, zoneID string
	defaultForAZ                  bool
	tags                          map[string]string
}

type launchTemplate struct {
	seq
	LaunchTemplate
}

type launchConfiguration struct {
	seq
	name, imageID, instanceType string
	created                     time.Time
}

type autoScalingGroup struct {
	seq
	name                  string
	launchConfiguration   string
	launchTemplateID      string
	launchTemplateName    string
	launchTemplateVersion string
	mixed                 bool
	created               time.Time
	tags                  map[string]string
}

type parameter struct {
	seq
	name, typ, dataType, description, tier string
	history                                []parameterVersion // oldest first; last is current
}

type parameterVersion struct {
	version  int64
	value    string
	modified time.Time
}

func (p *parameter) current() parameterVersion { return p.history[len(p.history)-1] }

func newRegionState(name string) *regionState {
	return &regionState{
		name:          name,
		images:        map[string]*image{},
		deregistered:  map[string]*deregisteredImage{},
		snapshots:     map[string]*snapshot{},
		instances:     map[string]*instance{},
		keyPairs:      map[string]*keyPair{},
		groups:        map[string]*securityGroup{},
		vpcs:          map[string]*vpc{},
		subnets:       map[string]*subnet{},
		templates:     map[string]*launchTemplate{},
		launchConfigs: map[string]*launchConfiguration{},
		groupsASG:     map[string]*autoScalingGroup{},
		params:        map[string]*parameter{},
		kmsKeys:       map[string]*kmsKey{},
		kmsAliases:    map[string]*kmsKey{},
		idempotent:    map[string]any{},
	}
}

// regionLocked returns the region's state, creating and seeding it on first use.
// Callers hold s.mu.
func (s *Server) regionLocked(name string) *regionState {
	rs, ok := s.regions[name]
	if !ok {
		rs = newRegionState(name)
		s.regions[name] = rs
		s.seedRegionLocked(rs)
	}
	return rs
}

// withRegion runs fn under the lock with the region's state brought up to date.
func (s *Server) withRegion(region string, fn func(rs *regionState)) {
	if !knownRegion(region) {
		panic(fmt.Sprintf("ec2sim: unknown region %q", region))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.regionLocked(region)
	rs.advance(time.Now())
	fn(rs)
}

// advance applies every transition whose time has come.
func (rs *regionState) advance(now time.Time) {
	for _, img := range rs.images {
		if img.State == "pending" && !now.Before(img.readyAt) {
			img.State = "available"
		}
	}
	for _, sn := range rs.snapshots {
		if sn.State == "pending" && !now.Before(sn.readyAt) {
			sn.State = "completed"
		}
	}
	for _, in := range rs.instances {
		if in.machine != nil || now.Before(in.transitionAt) {
			continue
		}
		switch in.State {
		case "pending":
			in.State = "running"
		case "stopping":
			in.State = "stopped"
		case "shutting-down":
			in.State = "terminated"
		}
	}
}

// next returns the next creation sequence number. Callers hold s.mu.
func (s *Server) next() seq {
	s.nextSeq++
	return seq{s.nextSeq}
}

// newID returns a fresh id in AWS's long format: prefix, dash, 17 hex digits. Callers hold s.mu.
func (s *Server) newID(prefix string) string {
	const hexDigits = "0123456789abcdef"
	b := make([]byte, 17)
	for i := range b {
		b[i] = hexDigits[s.rng.IntN(16)]
	}
	return prefix + "-" + string(b)
}

// newUUIDLocked returns a random version 4 UUID: the form of request ids and KMS key ids.
// Callers hold s.mu.
func (s *Server) newUUIDLocked() string {
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", s.rng.Uint32(), s.rng.Uint32()&0xffff,
		0x4000|s.rng.Uint32()&0x0fff, 0x8000|s.rng.Uint32()&0x3fff, s.rng.Uint64()&0xffffffffffff)
}

// stableID derives an id from names, so seeded resources keep their ids across restarts.
func stableID(prefix string, parts ...string) string {
	return prefix + "-" + digest(parts...)[:17]
}

// digest is 64 hex digits derived from names.
func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sortedBySeq returns the map's values in creation order.
func sortedBySeq[T interface{ order() int64 }](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order() < out[j].order() })
	return out
}

func (s seq) order() int64 { return s.seq }

// zones are the availability zones of a region: a, b and c.
func zones(region string) []string {
	return []string{region + "a", region + "b", region + "c"}
}

// zoneID is AWS's location-stable zone id, e.g. use1-az1 for us-east-1a.
func zoneID(zone string) string {
	region, letter := zone[:len(zone)-1], zone[len(zone)-1]
	parts := strings.Split(region, "-")
	short := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		switch p {
		case "northeast", "southeast", "northwest", "southwest":
			short += p[:1] + p[5:6]
		default:
			short += p[:1]
		}
	}
	short += parts[len(parts)-1]
	return fmt.Sprintf("%s-az%d", short, int(letter-'a')+1)
}
