package launch

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepNetwork chooses the VPC and subnet to launch in: subnet_id, else the subnet_filter match
// with the most free addresses, else the default subnet of the default VPC (or the first subnet
// of vpc_id). It puts StateVpcID, StateSubnetID and StateAvailabilityZone. It creates nothing.
type StepNetwork struct {
	SubnetID     string
	SubnetFilter SubnetFilter
	VpcID        string
}

func (s *StepNetwork) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	subnet, err := s.choose(ctx, ec2API(state))
	if err != nil {
		return halt(state, err)
	}
	vpc, subnetID := aws.ToString(subnet.VpcId), aws.ToString(subnet.SubnetId)
	ui(state).Say(fmt.Sprintf("Launching in subnet %s (%s) of VPC %s", subnetID, aws.ToString(subnet.AvailabilityZone), vpc))
	state.Put(StateVpcID, vpc)
	state.Put(StateSubnetID, subnetID)
	state.Put(StateAvailabilityZone, aws.ToString(subnet.AvailabilityZone))
	return multistep.ActionContinue
}

func (s *StepNetwork) Cleanup(multistep.StateBag) {}

func (s *StepNetwork) choose(ctx context.Context, api EC2API) (types.Subnet, error) {
	in := &ec2.DescribeSubnetsInput{}
	switch {
	case s.SubnetID != "":
		in.SubnetIds = []string{s.SubnetID}
	case len(s.SubnetFilter.Filters) > 0:
		for _, name := range sortedKeys(s.SubnetFilter.Filters) {
			in.Filters = append(in.Filters, types.Filter{Name: aws.String(name), Values: []string{s.SubnetFilter.Filters[name]}})
		}
	case s.VpcID == "":
		in.Filters = []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}
	}
	if s.VpcID != "" {
		in.Filters = append(in.Filters, types.Filter{Name: aws.String("vpc-id"), Values: []string{s.VpcID}})
	}
	var subnets []types.Subnet
	pages := ec2.NewDescribeSubnetsPaginator(api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return types.Subnet{}, fmt.Errorf("looking up the subnet: %w", err)
		}
		subnets = append(subnets, page.Subnets...)
	}
	if len(subnets) == 0 {
		switch {
		case s.SubnetID != "":
			return types.Subnet{}, fmt.Errorf("subnet_id: %s not found (in vpc_id %q)", s.SubnetID, s.VpcID)
		case len(s.SubnetFilter.Filters) > 0:
			return types.Subnet{}, fmt.Errorf("subnet_filter: no subnet matches %v", s.SubnetFilter.Filters)
		case s.VpcID != "":
			return types.Subnet{}, fmt.Errorf("vpc_id: %s has no subnet", s.VpcID)
		default:
			return types.Subnet{}, fmt.Errorf("the region has no default VPC: set subnet_id or subnet_filter")
		}
	}
	// Most free addresses first, then by id, so the same subnets always give the same answer.
	slices.SortFunc(subnets, func(a, b types.Subnet) int {
		return cmp.Or(-cmp.Compare(aws.ToInt32(a.AvailableIpAddressCount), aws.ToInt32(b.AvailableIpAddressCount)),
			cmp.Compare(aws.ToString(a.SubnetId), aws.ToString(b.SubnetId)))
	})
	if s.SubnetID == "" && len(s.SubnetFilter.Filters) == 0 {
		// Without a filter there is no reason to prefer the emptiest subnet: take the first by id.
		slices.SortFunc(subnets, func(a, b types.Subnet) int { return cmp.Compare(aws.ToString(a.SubnetId), aws.ToString(b.SubnetId)) })
	}
	return subnets[0], nil
}
