package ec2sim

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Security groups, VPCs, subnets, zones and regions.

var groupIDPattern = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)

func (rs *regionState) groupByName(vpcID, name string) *securityGroup {
	for _, g := range sortedBySeq(rs.groups) {
		if g.Name == name && (vpcID == "" || g.VpcID == vpcID) {
			return g
		}
	}
	return nil
}

// findGroup resolves GroupId or GroupName (the latter in the default VPC, as AWS does).
func (s *Server) findGroup(rs *regionState, p queryParams) (*securityGroup, error) {
	id, name := p.get("GroupId"), p.get("GroupName")
	switch {
	case id != "":
		if !groupIDPattern.MatchString(id) {
			return nil, errorf("InvalidGroupId.Malformed", "Invalid id: \"%s\" (expecting \"sg-...\")", id)
		}
		g, found := rs.groups[id]
		if !found {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
		return g, nil
	case name != "":
		vpcID := rs.defaultVPC().id
		g := rs.groupByName(vpcID, name)
		if g == nil {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, vpcID)
		}
		return g, nil
	}
	return nil, errorf("MissingParameter", "The request must contain the parameter GroupId or GroupName")
}

type createSecurityGroupResponse struct {
	ec2Response
	GroupID          string     `xml:"groupId"`
	SecurityGroupArn string     `xml:"securityGroupArn"`
	TagSet           *xmlTagSet `xml:"tagSet"`
}

func (s *Server) groupARN(region, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", region, s.opts.AccountID, id)
}

func createSecurityGroup(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	name, description := p.get("GroupName"), p.get("GroupDescription")
	if name == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter groupName")
	}
	if description == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter groupDescription")
	}
	if strings.HasPrefix(name, "sg-") {
		return nil, errorf("InvalidParameterValue", "Group names may not be in the format sg-*.")
	}
	if len(name) > 255 || len(description) > 255 {
		return nil, errorf("InvalidParameterValue", "Group name and description are limited to 255 characters")
	}
	vpcID := p.get("VpcId")
	if vpcID == "" {
		vpcID = rs.defaultVPC().id
	} else if _, found := rs.vpcs[vpcID]; !found {
		return nil, errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpcID)
	}
	if rs.groupByName(vpcID, name) != nil {
		return nil, errorf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, vpcID)
	}
	tags, err := tagSpecifications(p, "TagSpecification", "security-group")
	if err != nil {
		return nil, err
	}
	g := &securityGroup{seq: s.next(), SecurityGroup: SecurityGroup{
		ID: s.newID("sg"), Name: name, Description: description, VpcID: vpcID, OwnerID: s.opts.AccountID,
		Tags: cloneTags(tags["security-group"]), Egress: []Permission{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}},
	}}
	rs.groups[g.ID] = g
	return &createSecurityGroupResponse{GroupID: g.ID, SecurityGroupArn: s.groupARN(rs.name, g.ID), TagSet: tagSet(g.Tags)}, nil
}

// ingressRule is one source of one permission, the unit AWS checks duplicates on.
type ingressRule struct {
	protocol         string
	fromPort, toPort int32
	cidr, cidr6, grp string
}

func readIngressRules(rs *regionState, p queryParams) ([]ingressRule, error) {
	var rules []ingressRule
	perms := p.list("IpPermissions")
	if len(perms) == 0 && p.get("IpProtocol") != "" {
		perms = []queryParams{p}
	}
	for _, perm := range perms {
		proto := strings.ToLower(perm.get("IpProtocol"))
		switch proto {
		case "tcp", "udp", "icmp", "icmpv6", "-1":
		case "6":
			proto = "tcp"
		case "17":
			proto = "udp"
		case "1":
			proto = "icmp"
		case "":
			return nil, errorf("MissingParameter", "The request must contain the parameter ipProtocol")
		default:
			if _, err := strconv.Atoi(proto); err != nil {
				return nil, errorf("InvalidParameterValue", "Invalid value '%s' for IP protocol. Unknown protocol.", proto)
			}
		}
		var from, to int32
		if proto != "-1" {
			f, fset, err := perm.integer("FromPort")
			if err != nil {
				return nil, err
			}
			t, tset, err := perm.integer("ToPort")
			if err != nil {
				return nil, err
			}
			if (proto == "tcp" || proto == "udp") && (!fset || !tset || f < 0 || t > 65535 || f > t) {
				return nil, errorf("InvalidParameterValue", "Invalid port range %d-%d for protocol %s", f, t, proto)
			}
			from, to = int32(f), int32(t)
		}
		base := ingressRule{protocol: proto, fromPort: from, toPort: to}
		var sources []ingressRule
		for _, r := range perm.list("IpRanges") {
			cidr := r.get("CidrIp")
			if _, _, err := net.ParseCIDR(cidr); err != nil || strings.Contains(cidr, ":") {
				return nil, errorf("InvalidParameterValue", "CIDR block %s is malformed", cidr)
			}
			rule := base
			rule.cidr = cidr
			sources = append(sources, rule)
		}
		if cidr := perm.get("CidrIp"); cidr != "" {
			if _, _, err := net.ParseCIDR(cidr); err != nil {
				return nil, errorf("InvalidParameterValue", "CIDR block %s is malformed", cidr)
			}
			rule := base
			rule.cidr = cidr
			sources = append(sources, rule)
		}
		for _, r := range perm.list("Ipv6Ranges") {
			cidr := r.get("CidrIpv6")
			if _, _, err := net.ParseCIDR(cidr); err != nil || !strings.Contains(cidr, ":") {
				return nil, errorf("InvalidParameterValue", "CIDR block %s is malformed", cidr)
			}
			rule := base
			rule.cidr6 = cidr
			sources = append(sources, rule)
		}
		for _, r := range perm.list("Groups") {
			id := r.get("GroupId")
			if _, found := rs.groups[id]; !found {
				return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
			}
			rule := base
			rule.grp = id
			sources = append(sources, rule)
		}
		if len(sources) == 0 {
			return nil, errorf("MissingParameter", "No source specified for the rule (CidrIp, Ipv6 range or group)")
		}
		rules = append(rules, sources...)
	}
	if len(rules) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter ipPermissions")
	}
	return rules, nil
}

func (g *securityGroup) hasRule(r ingressRule) bool {
	for _, p := range g.Ingress {
		if p.Protocol != r.protocol || p.FromPort != r.fromPort || p.ToPort != r.toPort {
			continue
		}
		if (r.cidr != "" && slices.Contains(p.CIDRs, r.cidr)) || (r.cidr6 != "" && slices.Contains(p.IPv6CIDRs, r.cidr6)) ||
			(r.grp != "" && slices.Contains(p.GroupIDs, r.grp)) {
			return true
		}
	}
	return false
}

func (g *securityGroup) addRule(r ingressRule) {
	i := slices.IndexFunc(g.Ingress, func(p Permission) bool {
		return p.Protocol == r.protocol && p.FromPort == r.fromPort && p.ToPort == r.toPort
	})
	if i < 0 {
		g.Ingress = append(g.Ingress, Permission{Protocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort})
		i = len(g.Ingress) - 1
	}
	p := &g.Ingress[i]
	switch {
	case r.cidr != "":
		p.CIDRs = append(p.CIDRs, r.cidr)
	case r.cidr6 != "":
		p.IPv6CIDRs = append(p.IPv6CIDRs, r.cidr6)
	case r.grp != "":
		p.GroupIDs = append(p.GroupIDs, r.grp)
	}
}

type xmlSecurityGroupRule struct {
	SecurityGroupRuleID string `xml:"securityGroupRuleId"`
	GroupID             string `xml:"groupId"`
	GroupOwnerID        string `xml:"groupOwnerId"`
	IsEgress            bool   `xml:"isEgress"`
	IPProtocol          string `xml:"ipProtocol"`
	FromPort            int32  `xml:"fromPort"`
	ToPort              int32  `xml:"toPort"`
	CidrIpv4            string `xml:"cidrIpv4,omitempty"`
	CidrIpv6            string `xml:"cidrIpv6,omitempty"`
}

type authorizeIngressResponse struct {
	ec2Response
	Return bool                      `xml:"return"`
	Rules  set[xmlSecurityGroupRule] `xml:"securityGroupRuleSet"`
}

// groupRules are the group and the ingress rules an Authorize or Revoke call names.
func (s *Server) groupRules(rs *regionState, req *request) (*securityGroup, []ingressRule, error) {
	g, err := s.findGroup(rs, req.params)
	if err != nil {
		return nil, nil, err
	}
	rules, err := readIngressRules(rs, req.params)
	return g, rules, err
}

func authorizeSecurityGroupIngress(s *Server, rs *regionState, req *request) (any, error) {
	g, rules, err := s.groupRules(rs, req)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if g.hasRule(r) {
			source := firstNonEmpty(r.cidr, r.cidr6, r.grp)
			return nil, errorf("InvalidPermission.Duplicate", "the specified rule \"peer: %s, %s, from port: %d, to port: %d, ALLOW\" already exists",
				source, strings.ToUpper(r.protocol), r.fromPort, r.toPort)
		}
	}
	out := &authorizeIngressResponse{Return: true}
	for _, r := range rules {
		g.addRule(r)
		out.Rules.Items = append(out.Rules.Items, xmlSecurityGroupRule{
			SecurityGroupRuleID: s.newID("sgr"), GroupID: g.ID, GroupOwnerID: g.OwnerID, IPProtocol: r.protocol,
			FromPort: r.fromPort, ToPort: r.toPort, CidrIpv4: r.cidr, CidrIpv6: r.cidr6,
		})
	}
	return out, nil
}

type deleteSecurityGroupResponse struct {
	ec2Response
	Return  bool   `xml:"return"`
	GroupID string `xml:"groupId"`
}

// deleteSecurityGroup refuses while any instance that is not terminated uses the group, or
// another group's rule refers to it: DependencyViolation, which callers retry.
func deleteSecurityGroup(s *Server, rs *regionState, req *request) (any, error) {
	g, err := s.findGroup(rs, req.params)
	if err != nil {
		return nil, err
	}
	if g.isDefault {
		return nil, errorf("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	for _, in := range rs.instances {
		if in.State != "terminated" && slices.Contains(in.SecurityGroupIDs, g.ID) {
			return nil, errorf("DependencyViolation", "resource %s has a dependent object", g.ID)
		}
	}
	for _, other := range rs.groups {
		if other.ID == g.ID {
			continue
		}
		for _, p := range other.Ingress {
			if slices.Contains(p.GroupIDs, g.ID) {
				return nil, errorf("DependencyViolation", "resource %s has a dependent object", g.ID)
			}
		}
	}
	delete(rs.groups, g.ID)
	return &deleteSecurityGroupResponse{Return: true, GroupID: g.ID}, nil
}

var groupFilters = map[string]fieldFunc[*securityGroup]{
	"group-id":    func(g *securityGroup) []string { return one(g.ID) },
	"group-name":  func(g *securityGroup) []string { return one(g.Name) },
	"vpc-id":      func(g *securityGroup) []string { return one(g.VpcID) },
	"description": func(g *securityGroup) []string { return one(g.Description) },
	"owner-id":    func(g *securityGroup) []string { return one(g.OwnerID) },
	"ip-permission.cidr": func(g *securityGroup) []string {
		var out []string
		for _, p := range g.Ingress {
			out = append(out, p.CIDRs...)
		}
		return out
	},
	"ip-permission.protocol": func(g *securityGroup) []string {
		var out []string
		for _, p := range g.Ingress {
			out = append(out, p.Protocol)
		}
		return out
	},
	"ip-permission.from-port": func(g *securityGroup) []string {
		var out []string
		for _, p := range g.Ingress {
			out = append(out, strconv.Itoa(int(p.FromPort)))
		}
		return out
	},
	"ip-permission.to-port": func(g *securityGroup) []string {
		var out []string
		for _, p := range g.Ingress {
			out = append(out, strconv.Itoa(int(p.ToPort)))
		}
		return out
	},
}

type xmlIPPermission struct {
	IPProtocol string `xml:"ipProtocol"`
	FromPort   *int32 `xml:"fromPort"`
	ToPort     *int32 `xml:"toPort"`
	Groups     set[struct {
		UserID  string `xml:"userId"`
		GroupID string `xml:"groupId"`
	}] `xml:"groups"`
	IPRanges set[struct {
		CidrIP string `xml:"cidrIp"`
	}] `xml:"ipRanges"`
	IPv6Ranges set[struct {
		CidrIPv6 string `xml:"cidrIpv6"`
	}] `xml:"ipv6Ranges"`
	PrefixListIDs set[struct{}] `xml:"prefixListIds"`
}

type xmlSecurityGroup struct {
	OwnerID             string               `xml:"ownerId"`
	GroupID             string               `xml:"groupId"`
	GroupName           string               `xml:"groupName"`
	GroupDescription    string               `xml:"groupDescription"`
	VpcID               string               `xml:"vpcId"`
	SecurityGroupArn    string               `xml:"securityGroupArn"`
	IPPermissions       set[xmlIPPermission] `xml:"ipPermissions"`
	IPPermissionsEgress set[xmlIPPermission] `xml:"ipPermissionsEgress"`
	TagSet              *xmlTagSet           `xml:"tagSet"`
}

func permissionsXML(ps []Permission, owner string) set[xmlIPPermission] {
	var out set[xmlIPPermission]
	for _, p := range ps {
		x := xmlIPPermission{IPProtocol: p.Protocol}
		if p.Protocol != "-1" {
			from, to := p.FromPort, p.ToPort
			x.FromPort, x.ToPort = &from, &to
		}
		for _, c := range p.CIDRs {
			x.IPRanges.Items = append(x.IPRanges.Items, struct {
				CidrIP string `xml:"cidrIp"`
			}{c})
		}
		for _, c := range p.IPv6CIDRs {
			x.IPv6Ranges.Items = append(x.IPv6Ranges.Items, struct {
				CidrIPv6 string `xml:"cidrIpv6"`
			}{c})
		}
		for _, g := range p.GroupIDs {
			x.Groups.Items = append(x.Groups.Items, struct {
				UserID  string `xml:"userId"`
				GroupID string `xml:"groupId"`
			}{owner, g})
		}
		out.Items = append(out.Items, x)
	}
	return out
}

type describeSecurityGroupsResponse struct {
	ec2Response
	Groups    set[xmlSecurityGroup] `xml:"securityGroupInfo"`
	NextToken string                `xml:"nextToken,omitempty"`
}

func describeSecurityGroups(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	ids, names := p.strings("GroupId"), p.strings("GroupName")
	for _, id := range ids {
		if _, found := rs.groups[id]; !found {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	defaultVPC := rs.defaultVPC().id
	for _, n := range names {
		if rs.groupByName(defaultVPC, n) == nil {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", n, defaultVPC)
		}
	}
	list, next, err := groupListing.page(p, len(ids)+len(names) > 0, sortedBySeq(rs.groups), func(g *securityGroup) bool {
		return (len(ids) == 0 || slices.Contains(ids, g.ID)) && (len(names) == 0 || slices.Contains(names, g.Name) && g.VpcID == defaultVPC)
	})
	if err != nil {
		return nil, err
	}
	out := &describeSecurityGroupsResponse{NextToken: next}
	for _, g := range list {
		out.Groups.Items = append(out.Groups.Items, xmlSecurityGroup{
			OwnerID: g.OwnerID, GroupID: g.ID, GroupName: g.Name, GroupDescription: g.Description, VpcID: g.VpcID,
			SecurityGroupArn: s.groupARN(rs.name, g.ID), IPPermissions: permissionsXML(g.Ingress, g.OwnerID),
			IPPermissionsEgress: permissionsXML(g.Egress, g.OwnerID), TagSet: tagSet(g.Tags),
		})
	}
	return out, nil
}

var groupListing = listing[*securityGroup]{action: "DescribeSecurityGroups", fields: groupFilters,
	tags: func(g *securityGroup) map[string]string { return g.Tags }, minResults: 5, maxResults: 1000}

var vpcFilters = map[string]fieldFunc[*vpc]{
	"vpc-id":     func(v *vpc) []string { return one(v.id) },
	"is-default": func(v *vpc) []string { return one(boolString(v.isDefault)) },
	"cidr":       func(v *vpc) []string { return one(v.cidr) },
	"cidr-block-association.cidr-block": func(v *vpc) []string {
		return one(v.cidr)
	},
	"state":    func(*vpc) []string { return one("available") },
	"owner-id": func(*vpc) []string { return nil },
}

type xmlVpc struct {
	VpcID           string     `xml:"vpcId"`
	OwnerID         string     `xml:"ownerId"`
	State           string     `xml:"state"`
	CidrBlock       string     `xml:"cidrBlock"`
	DhcpOptionsID   string     `xml:"dhcpOptionsId"`
	InstanceTenancy string     `xml:"instanceTenancy"`
	IsDefault       bool       `xml:"isDefault"`
	TagSet          *xmlTagSet `xml:"tagSet"`
}

type describeVpcsResponse struct {
	ec2Response
	Vpcs      set[xmlVpc] `xml:"vpcSet"`
	NextToken string      `xml:"nextToken,omitempty"`
}

func describeVpcs(s *Server, rs *regionState, req *request) (any, error) {
	ids := req.params.strings("VpcId")
	candidates, err := byIDs(rs.vpcs, ids, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist")
	if err != nil {
		return nil, err
	}
	l := listing[*vpc]{action: "DescribeVpcs", fields: withOwner(vpcFilters, s.opts.AccountID),
		tags: func(v *vpc) map[string]string { return v.tags }, minResults: 5, maxResults: 1000}
	list, next, err := l.page(req.params, false, candidates, nil)
	if err != nil {
		return nil, err
	}
	out := &describeVpcsResponse{NextToken: next}
	for _, v := range list {
		out.Vpcs.Items = append(out.Vpcs.Items, xmlVpc{VpcID: v.id, OwnerID: s.opts.AccountID, State: "available",
			CidrBlock: v.cidr, DhcpOptionsID: stableID("dopt", rs.name), InstanceTenancy: "default", IsDefault: v.isDefault, TagSet: tagSet(v.tags)})
	}
	return out, nil
}

// byIDs returns the resources named by ids (all of them, in creation order, when none is
// named), failing with AWS's NotFound error for the first unknown id.
func byIDs[T interface{ order() int64 }](m map[string]T, ids []string, code, format string) ([]T, error) {
	if len(ids) == 0 {
		return sortedBySeq(m), nil
	}
	picked := map[string]T{}
	for _, id := range ids {
		v, found := m[id]
		if !found {
			return nil, errorf(code, format, id)
		}
		picked[id] = v
	}
	return sortedBySeq(picked), nil
}

// withOwner completes a filter table with owner-id, which needs the account.
func withOwner[T any](fields map[string]fieldFunc[T], account string) map[string]fieldFunc[T] {
	out := make(map[string]fieldFunc[T], len(fields))
	for k, v := range fields {
		out[k] = v
	}
	out["owner-id"] = func(T) []string { return one(account) }
	return out
}

var subnetFilters = map[string]fieldFunc[*subnet]{
	"subnet-id":               func(n *subnet) []string { return one(n.id) },
	"vpc-id":                  func(n *subnet) []string { return one(n.vpcID) },
	"default-for-az":          func(n *subnet) []string { return one(boolString(n.defaultForAZ)) },
	"default-for-az-id":       func(n *subnet) []string { return one(boolString(n.defaultForAZ)) },
	"availability-zone":       func(n *subnet) []string { return one(n.zone) },
	"availability-zone-id":    func(n *subnet) []string { return one(n.zoneID) },
	"cidr-block":              func(n *subnet) []string { return one(n.cidr) },
	"state":                   func(*subnet) []string { return one("available") },
	"map-public-ip-on-launch": func(n *subnet) []string { return one(boolString(n.defaultForAZ)) },
	"owner-id":                func(*subnet) []string { return nil },
}

type xmlSubnet struct {
	SubnetID                string     `xml:"subnetId"`
	SubnetArn               string     `xml:"subnetArn"`
	State                   string     `xml:"state"`
	OwnerID                 string     `xml:"ownerId"`
	VpcID                   string     `xml:"vpcId"`
	CidrBlock               string     `xml:"cidrBlock"`
	AvailableIPAddressCount int        `xml:"availableIpAddressCount"`
	AvailabilityZone        string     `xml:"availabilityZone"`
	AvailabilityZoneID      string     `xml:"availabilityZoneId"`
	DefaultForAz            bool       `xml:"defaultForAz"`
	MapPublicIPOnLaunch     bool       `xml:"mapPublicIpOnLaunch"`
	AssignIpv6OnCreation    bool       `xml:"assignIpv6AddressOnCreation"`
	TagSet                  *xmlTagSet `xml:"tagSet"`
}

type describeSubnetsResponse struct {
	ec2Response
	Subnets   set[xmlSubnet] `xml:"subnetSet"`
	NextToken string         `xml:"nextToken,omitempty"`
}

func describeSubnets(s *Server, rs *regionState, req *request) (any, error) {
	candidates, err := byIDs(rs.subnets, req.params.strings("SubnetId"), "InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist")
	if err != nil {
		return nil, err
	}
	l := listing[*subnet]{action: "DescribeSubnets", fields: withOwner(subnetFilters, s.opts.AccountID),
		tags: func(n *subnet) map[string]string { return n.tags }, minResults: 5, maxResults: 1000}
	list, next, err := l.page(req.params, false, candidates, nil)
	if err != nil {
		return nil, err
	}
	out := &describeSubnetsResponse{NextToken: next}
	// Each instance not terminated holds one address of its subnet; AWS keeps 5 of every subnet.
	used := map[string]int{}
	for _, in := range rs.instances {
		if in.State != "terminated" {
			used[in.SubnetID]++
		}
	}
	for _, n := range list {
		out.Subnets.Items = append(out.Subnets.Items, xmlSubnet{
			SubnetID: n.id, SubnetArn: fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", rs.name, s.opts.AccountID, n.id),
			State: "available", OwnerID: s.opts.AccountID, VpcID: n.vpcID, CidrBlock: n.cidr, AvailableIPAddressCount: subnetAddresses(n.cidr) - 5 - used[n.id],
			AvailabilityZone: n.zone, AvailabilityZoneID: n.zoneID, DefaultForAz: n.defaultForAZ,
			MapPublicIPOnLaunch: n.defaultForAZ, TagSet: tagSet(n.tags),
		})
	}
	return out, nil
}

// subnetAddresses is the number of addresses of an IPv4 CIDR block.
func subnetAddresses(cidr string) int {
	_, network, err := net.ParseCIDR(cidr)
	if err != nil {
		return 0
	}
	ones, bits := network.Mask.Size()
	return 1 << (bits - ones)
}

type xmlZone struct {
	ZoneName           string `xml:"zoneName"`
	ZoneID             string `xml:"zoneId"`
	ZoneState          string `xml:"zoneState"`
	RegionName         string `xml:"regionName"`
	ZoneType           string `xml:"zoneType"`
	OptInStatus        string `xml:"optInStatus"`
	GroupName          string `xml:"groupName"`
	NetworkBorderGroup string `xml:"networkBorderGroup"`
}

type describeZonesResponse struct {
	ec2Response
	Zones set[xmlZone] `xml:"availabilityZoneInfo"`
}

type zoneInfo struct{ name, id, region string }

var zoneFilters = map[string]fieldFunc[zoneInfo]{
	"zone-name":   func(z zoneInfo) []string { return one(z.name) },
	"zone-id":     func(z zoneInfo) []string { return one(z.id) },
	"region-name": func(z zoneInfo) []string { return one(z.region) },
	"state":       func(zoneInfo) []string { return one("available") },
	"zone-type":   func(zoneInfo) []string { return one("availability-zone") },
	"opt-in-status": func(zoneInfo) []string {
		return one("opt-in-not-required")
	},
	"group-name": func(z zoneInfo) []string { return one(z.region) },
}

func describeAvailabilityZones(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	names, ids := p.strings("ZoneName"), p.strings("ZoneId")
	var all []zoneInfo
	for _, z := range zones(rs.name) {
		all = append(all, zoneInfo{name: z, id: zoneID(z), region: rs.name})
	}
	for _, n := range names {
		if !slices.ContainsFunc(all, func(z zoneInfo) bool { return z.name == n }) {
			return nil, errorf("InvalidParameterValue", "The zone '%s' does not exist in region '%s'", n, rs.name)
		}
	}
	list, _, err := listing[zoneInfo]{action: "DescribeAvailabilityZones", fields: zoneFilters}.page(p, false, all, func(z zoneInfo) bool {
		return len(names)+len(ids) == 0 || slices.Contains(names, z.name) || slices.Contains(ids, z.id)
	})
	if err != nil {
		return nil, err
	}
	out := &describeZonesResponse{}
	for _, z := range list {
		out.Zones.Items = append(out.Zones.Items, xmlZone{ZoneName: z.name, ZoneID: z.id, ZoneState: "available",
			RegionName: z.region, ZoneType: "availability-zone", OptInStatus: "opt-in-not-required",
			GroupName: z.region, NetworkBorderGroup: z.region})
	}
	return out, nil
}

type xmlRegion struct {
	RegionName     string `xml:"regionName"`
	RegionEndpoint string `xml:"regionEndpoint"`
	OptInStatus    string `xml:"optInStatus"`
}

type describeRegionsResponse struct {
	ec2Response
	Regions set[xmlRegion] `xml:"regionInfo"`
}

var regionFilters = map[string]fieldFunc[string]{
	"region-name":   func(r string) []string { return one(r) },
	"opt-in-status": func(string) []string { return one("opt-in-not-required") },
}

func describeRegions(s *Server, _ *regionState, req *request) (any, error) {
	names := req.params.strings("RegionName")
	for _, n := range names {
		if !knownRegion(n) {
			return nil, errorf("InvalidParameterValue", "Invalid region: %s", n)
		}
	}
	list, _, err := listing[string]{action: "DescribeRegions", fields: regionFilters}.page(req.params, false, knownRegions, func(r string) bool {
		return len(names) == 0 || slices.Contains(names, r)
	})
	if err != nil {
		return nil, err
	}
	out := &describeRegionsResponse{}
	for _, r := range list {
		out.Regions.Items = append(out.Regions.Items, xmlRegion{RegionName: r, RegionEndpoint: "ec2." + r + ".amazonaws.com", OptInStatus: "opt-in-not-required"})
	}
	return out, nil
}
