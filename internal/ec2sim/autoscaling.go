package ec2sim

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Auto Scaling over the AWS Query protocol: the read side the lifecycle's in-use check needs.

var autoScalingHandlers = map[string]handler{
	"DescribeAutoScalingGroups":    describeAutoScalingGroups,
	"DescribeLaunchConfigurations": describeLaunchConfigurations,
}

type asgLaunchTemplateSpec struct {
	LaunchTemplateID   string `xml:"LaunchTemplateId,omitempty"`
	LaunchTemplateName string `xml:"LaunchTemplateName,omitempty"`
	Version            string `xml:"Version,omitempty"`
}

type asgMember[T any] struct {
	Members []T `xml:"member"`
}

type asgOverride struct {
	InstanceType string `xml:"InstanceType"`
}

type asgMixedInstancesPolicy struct {
	LaunchTemplate struct {
		LaunchTemplateSpecification asgLaunchTemplateSpec
		Overrides                   asgMember[asgOverride]
	}
	InstancesDistribution struct {
		OnDemandAllocationStrategy          string
		OnDemandBaseCapacity                int
		OnDemandPercentageAboveBaseCapacity int
		SpotAllocationStrategy              string
	}
}

type asgTag struct {
	Key               string
	Value             string
	ResourceID        string `xml:"ResourceId"`
	ResourceType      string
	PropagateAtLaunch bool
}

type xmlAutoScalingGroup struct {
	AutoScalingGroupName    string
	AutoScalingGroupARN     string
	LaunchConfigurationName string                   `xml:",omitempty"`
	LaunchTemplate          *asgLaunchTemplateSpec   `xml:",omitempty"`
	MixedInstancesPolicy    *asgMixedInstancesPolicy `xml:",omitempty"`
	MinSize                 int
	MaxSize                 int
	DesiredCapacity         int
	DefaultCooldown         int
	AvailabilityZones       asgMember[string]
	HealthCheckType         string
	HealthCheckGracePeriod  int
	Instances               asgMember[struct{}]
	CreatedTime             string
	Tags                    asgMember[asgTag]
	ServiceLinkedRoleARN    string
}

type describeAutoScalingGroupsResult struct {
	AutoScalingGroups asgMember[xmlAutoScalingGroup]
	NextToken         string `xml:",omitempty"`
}

func (s *Server) asgARN(region, name string) string {
	return fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:%s:autoScalingGroupName/%s",
		region, s.opts.AccountID, stableID("", region, name)[1:], name)
}

// maxRecords reads Auto Scaling's MaxRecords: default 50, at most 100.
func maxRecords(p queryParams) (int, error) {
	n, set, err := p.integer("MaxRecords")
	if err != nil {
		return 0, &apiError{Code: "ValidationError", Message: err.Error(), Status: 400}
	}
	if !set {
		return 50, nil
	}
	if n < 1 || n > 100 {
		return 0, &apiError{Code: "ValidationError", Message: fmt.Sprintf("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100", n), Status: 400}
	}
	return n, nil
}

var asgFilters = map[string]fieldFunc[*autoScalingGroup]{}

func asgTags(g *autoScalingGroup) map[string]string { return g.tags }

func describeAutoScalingGroups(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	names := p.members("AutoScalingGroupNames")
	limit, err := maxRecords(p)
	if err != nil {
		return nil, err
	}
	var filters []filter
	for _, f := range p.memberList("Filters") {
		filters = append(filters, filter{name: f.get("Name"), values: f.members("Values")})
	}
	for _, f := range filters {
		if f.name != "tag-key" && f.name != "tag-value" && (len(f.name) < 5 || f.name[:4] != "tag:") {
			return nil, &apiError{Code: "ValidationError", Message: fmt.Sprintf("Filter type %s is not correct. Allowed Filter types are: tag-key tag-value tag:<key>", f.name), Status: 400}
		}
	}
	var matched []*autoScalingGroup
	for _, g := range sortedBySeq(rs.groupsASG) {
		if len(names) > 0 && !slices.Contains(names, g.name) {
			continue
		}
		if !matchFilters(g, filters, asgFilters, asgTags) {
			continue
		}
		matched = append(matched, g)
	}
	pg, err := paginate("DescribeAutoScalingGroups", len(matched), limit, p.get("NextToken"))
	if err != nil {
		return nil, &apiError{Code: "InvalidNextToken", Message: "The token is invalid.", Status: 400}
	}
	out := &describeAutoScalingGroupsResult{NextToken: pg.next}
	for _, g := range matched[pg.start:pg.end] {
		out.AutoScalingGroups.Members = append(out.AutoScalingGroups.Members, s.asgXML(rs, g))
	}
	return out, nil
}

func (s *Server) asgXML(rs *regionState, g *autoScalingGroup) xmlAutoScalingGroup {
	x := xmlAutoScalingGroup{
		AutoScalingGroupName: g.name, AutoScalingGroupARN: s.asgARN(rs.name, g.name),
		LaunchConfigurationName: g.launchConfiguration, MinSize: 0, MaxSize: 1, DesiredCapacity: 0,
		DefaultCooldown: 300, HealthCheckType: "EC2", HealthCheckGracePeriod: 300,
		CreatedTime:          g.created.UTC().Format(time.RFC3339),
		ServiceLinkedRoleARN: fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", s.opts.AccountID),
	}
	x.AvailabilityZones.Members = zones(rs.name)
	keys := make([]string, 0, len(g.tags))
	for k := range g.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		x.Tags.Members = append(x.Tags.Members, asgTag{Key: k, Value: g.tags[k], ResourceID: g.name, ResourceType: "auto-scaling-group", PropagateAtLaunch: true})
	}
	if g.launchTemplateID != "" || g.launchTemplateName != "" {
		spec := asgLaunchTemplateSpec{LaunchTemplateID: g.launchTemplateID, LaunchTemplateName: g.launchTemplateName, Version: g.launchTemplateVersion}
		if g.mixed {
			mip := &asgMixedInstancesPolicy{}
			mip.LaunchTemplate.LaunchTemplateSpecification = spec
			mip.LaunchTemplate.Overrides.Members = []asgOverride{{InstanceType: "t3.micro"}, {InstanceType: "t3a.micro"}}
			mip.InstancesDistribution.OnDemandAllocationStrategy = "prioritized"
			mip.InstancesDistribution.OnDemandPercentageAboveBaseCapacity = 100
			mip.InstancesDistribution.SpotAllocationStrategy = "lowest-price"
			x.MixedInstancesPolicy = mip
		} else {
			x.LaunchTemplate = &spec
		}
	}
	return x
}

type xmlLaunchConfiguration struct {
	LaunchConfigurationName string
	LaunchConfigurationARN  string
	ImageID                 string `xml:"ImageId"`
	InstanceType            string
	KeyName                 string `xml:",omitempty"`
	SecurityGroups          asgMember[string]
	BlockDeviceMappings     asgMember[struct{}]
	CreatedTime             string
	EbsOptimized            bool
}

type describeLaunchConfigurationsResult struct {
	LaunchConfigurations asgMember[xmlLaunchConfiguration]
	NextToken            string `xml:",omitempty"`
}

func describeLaunchConfigurations(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	names := p.members("LaunchConfigurationNames")
	limit, err := maxRecords(p)
	if err != nil {
		return nil, err
	}
	var matched []*launchConfiguration
	for _, lc := range sortedBySeq(rs.launchConfigs) {
		if len(names) == 0 || slices.Contains(names, lc.name) {
			matched = append(matched, lc)
		}
	}
	pg, err := paginate("DescribeLaunchConfigurations", len(matched), limit, p.get("NextToken"))
	if err != nil {
		return nil, &apiError{Code: "InvalidNextToken", Message: "The token is invalid.", Status: 400}
	}
	out := &describeLaunchConfigurationsResult{NextToken: pg.next}
	for _, lc := range matched[pg.start:pg.end] {
		out.LaunchConfigurations.Members = append(out.LaunchConfigurations.Members, xmlLaunchConfiguration{
			LaunchConfigurationName: lc.name, ImageID: lc.imageID, InstanceType: lc.instanceType,
			LaunchConfigurationARN: fmt.Sprintf("arn:aws:autoscaling:%s:%s:launchConfiguration:%s:launchConfigurationName/%s",
				rs.name, s.opts.AccountID, stableID("", rs.name, lc.name)[1:], lc.name),
			CreatedTime: lc.created.UTC().Format(time.RFC3339),
		})
	}
	return out, nil
}
