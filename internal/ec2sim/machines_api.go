package ec2sim

import (
	"encoding/base64"
	"slices"
	"strings"
)

// The instance and security-group calls that change what applies to a running instance: its
// metadata options, its groups, its groups' rules. A lab machine hears of the rules through
// machineUpdatesLocked after the call.

type xmlInstanceMetadataOptionsResponse struct {
	ec2Response
	InstanceID      string             `xml:"instanceId"`
	MetadataOptions xmlMetadataOptions `xml:"instanceMetadataOptions"`
}

// modifyInstanceMetadataOptions changes an instance's IMDS settings; the metadata service
// applies them from the next request on.
func modifyInstanceMetadataOptions(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	in, err := s.lookupInstance(rs, p.get("InstanceId"))
	if err != nil {
		return nil, err
	}
	if in.State == "terminated" || in.State == "shutting-down" {
		return nil, errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which its metadata options can be modified.", in.ID)
	}
	mo := in.MetadataOptions
	checks := []struct {
		name  string
		field *string
		valid []string
	}{
		{"HttpTokens", &mo.HTTPTokens, []string{"optional", "required"}},
		{"HttpEndpoint", &mo.HTTPEndpoint, []string{"enabled", "disabled"}},
		{"InstanceMetadataTags", &mo.InstanceMetadataTags, []string{"enabled", "disabled"}},
	}
	for _, c := range checks {
		v := p.get(c.name)
		if v == "" {
			continue
		}
		if !slices.Contains(c.valid, v) {
			return nil, errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Valid values: %s.", v, c.name, strings.Join(c.valid, ", "))
		}
		*c.field = v
	}
	if v := p.get("HttpProtocolIpv6"); v != "" && v != "disabled" && v != "enabled" {
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter HttpProtocolIpv6 is invalid. Valid values: enabled, disabled.", v)
	}
	if n, set, err := p.integer("HttpPutResponseHopLimit"); err != nil {
		return nil, err
	} else if set {
		if n < 1 || n > 64 {
			return nil, errorf("InvalidParameterValue", "Value (%d) for parameter HttpPutResponseHopLimit is invalid. Valid values: 1-64.", n)
		}
		mo.HTTPPutResponseHopLimit = int32(n)
	}
	in.MetadataOptions = mo
	return &xmlInstanceMetadataOptionsResponse{InstanceID: in.ID, MetadataOptions: xmlMetadataOptions{
		State: "pending", HTTPTokens: mo.HTTPTokens, HTTPPutResponseHopLimit: mo.HTTPPutResponseHopLimit,
		HTTPEndpoint: mo.HTTPEndpoint, HTTPProtocolIpv6: "disabled", InstanceMetadataTags: mo.InstanceMetadataTags,
	}}, nil
}

// modifyInstanceAttribute changes an instance's security groups (running or stopped), or its
// instance type, user data or ENA support (stopped only), one attribute per call as EC2 takes
// them.
func modifyInstanceAttribute(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	in, err := s.lookupInstance(rs, p.get("InstanceId"))
	if err != nil {
		return nil, err
	}
	groups := p.strings("GroupId")
	instanceType, userData := p.get("InstanceType.Value"), p.get("UserData.Value")
	if attr := p.get("Attribute"); attr != "" {
		switch attr {
		case "instanceType":
			instanceType = p.get("Value")
		case "userData":
			userData = p.get("Value")
		case "groupSet":
			groups = strings.Split(p.get("Value"), ",")
		case "enaSupport":
			p.values.Set("EnaSupport.Value", p.get("Value"))
		default:
			return nil, errorf("InvalidParameterValue", "Value (%s) for parameter attribute is not supported by the simulator.", attr)
		}
	}
	switch {
	case len(groups) > 0:
		if in.State != "running" && in.State != "stopped" && in.State != "pending" && in.State != "stopping" {
			return nil, errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which its security groups can be changed.", in.ID)
		}
		ids, err := s.launchGroups(rs, in.VpcID, groups, nil)
		if err != nil {
			return nil, err
		}
		in.SecurityGroupIDs = ids
	case instanceType != "":
		if in.State != "stopped" {
			return nil, errorf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", in.ID)
		}
		if !instanceTypePattern.MatchString(instanceType) {
			return nil, errorf("InvalidParameterValue", "Invalid value '%s' for InstanceType.", instanceType)
		}
		if arch := architectureOf(instanceType); arch != in.Architecture {
			return nil, errorf("InvalidParameterValue", "The architecture '%s' of the specified instance type does not match the architecture '%s' of the instance.", arch, in.Architecture)
		}
		in.InstanceType = instanceType
	case p.has("UserData.Value") || p.get("Attribute") == "userData":
		if in.State != "stopped" {
			return nil, errorf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", in.ID)
		}
		if _, err := base64.StdEncoding.DecodeString(userData); err != nil {
			return nil, errorf("InvalidParameterValue", "Invalid BASE64 encoding of user data.")
		}
		in.UserData = userData
	case p.has("EnaSupport.Value"):
		if in.State != "stopped" {
			return nil, errorf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", in.ID)
		}
		in.EnaSupport = p.get("EnaSupport.Value") == "true"
	default:
		return nil, errorf("MissingParameter", "The request must contain an attribute to modify (the simulator supports groups, instance type, user data and ENA support)")
	}
	return ok(), nil
}

type revokeIngressResponse struct {
	ec2Response
	Return  bool                 `xml:"return"`
	Unknown set[xmlIPPermission] `xml:"unknownIpPermissionSet"`
}

// revokeSecurityGroupIngress removes ingress rules. A rule the group does not have is no error:
// like EC2 for VPC groups, the answer lists it among the unknown permissions.
func revokeSecurityGroupIngress(s *Server, rs *regionState, req *request) (any, error) {
	g, rules, err := s.groupRules(rs, req)
	if err != nil {
		return nil, err
	}
	out := &revokeIngressResponse{Return: true}
	var unknown []Permission
	for _, r := range rules {
		if !g.hasRule(r) {
			unknown = append(unknown, r.permission())
			continue
		}
		g.removeRule(r)
	}
	out.Unknown = permissionsXML(unknown, g.OwnerID)
	return out, nil
}

func (r ingressRule) permission() Permission {
	p := Permission{Protocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort}
	switch {
	case r.cidr != "":
		p.CIDRs = []string{r.cidr}
	case r.cidr6 != "":
		p.IPv6CIDRs = []string{r.cidr6}
	case r.grp != "":
		p.GroupIDs = []string{r.grp}
	}
	return p
}

// removeRule takes one source out of the permission holding it, and the permission out of the
// group once it has no source left.
func (g *securityGroup) removeRule(r ingressRule) {
	for i := range g.Ingress {
		p := &g.Ingress[i]
		if p.Protocol != r.protocol || p.FromPort != r.fromPort || p.ToPort != r.toPort {
			continue
		}
		drop := func(list []string, v string) []string {
			return slices.DeleteFunc(list, func(x string) bool { return v != "" && x == v })
		}
		p.CIDRs, p.IPv6CIDRs, p.GroupIDs = drop(p.CIDRs, r.cidr), drop(p.IPv6CIDRs, r.cidr6), drop(p.GroupIDs, r.grp)
		if len(p.CIDRs)+len(p.IPv6CIDRs)+len(p.GroupIDs) == 0 {
			g.Ingress = slices.Delete(g.Ingress, i, i+1)
		}
		return
	}
}
