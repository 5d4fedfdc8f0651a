package launch

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// TestStepNetworkSubnetFilter: subnet_filter takes, of the subnets its filters match, the one
// with the most free addresses (ties: the lowest id), as the option's documentation says, and
// fails naming the option when nothing matches.
func TestStepNetworkSubnetFilter(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast})
	api := newClient(sim)
	out, err := api.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{
		Filters: []types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Subnets) < 3 {
		t.Fatalf("want at least 3 default subnets, got %d", len(out.Subnets))
	}
	byID := slices.Clone(out.Subnets)
	slices.SortFunc(byID, func(a, b types.Subnet) int {
		return strings.Compare(aws.ToString(a.SubnetId), aws.ToString(b.SubnetId))
	})
	lowest := aws.ToString(byID[0].SubnetId)

	choose := func(filters map[string]string) (string, string, error) {
		t.Helper()
		state, _ := newState(t, sim)
		step := &StepNetwork{SubnetFilter: SubnetFilter{Filters: filters}}
		if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
			err, _ := state.Get(stateError).(error)
			return "", "", err
		}
		return state.Get(StateSubnetID).(string), state.Get(StateAvailabilityZone).(string), nil
	}

	// All default subnets equally free: the lowest id.
	got, _, err := choose(map[string]string{"default-for-az": "true"})
	if err != nil || got != lowest {
		t.Errorf("equally free subnets: chose %s (%v), want the lowest id %s", got, err, lowest)
	}

	// A filter on one zone takes that zone's subnet.
	zone := aws.ToString(byID[len(byID)-1].AvailabilityZone)
	got, gotZone, err := choose(map[string]string{"availability-zone": zone})
	if err != nil || got != aws.ToString(byID[len(byID)-1].SubnetId) || gotZone != zone {
		t.Errorf("availability-zone %s: chose %s in %s (%v), want %s", zone, got, gotZone, err, aws.ToString(byID[len(byID)-1].SubnetId))
	}

	// Instances use addresses of the lowest-id subnet: another, freer one is taken.
	var busy string
	for i := 0; i < 2; i++ {
		id := sim.AddInstance(region, ec2sim.InstanceSeed{})
		for _, in := range sim.Instances(region) {
			if in.ID == id {
				busy = in.SubnetID
			}
		}
	}
	out, err = api.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{SubnetIds: []string{busy}})
	if err != nil || len(out.Subnets) != 1 || aws.ToInt32(out.Subnets[0].AvailableIpAddressCount) != 4089 {
		t.Fatalf("the busy subnet %s should have 4091-2 free addresses: %+v %v", busy, out, err)
	}
	want := lowest
	if busy == lowest {
		want = aws.ToString(byID[1].SubnetId)
	}
	got, _, err = choose(map[string]string{"default-for-az": "true"})
	if err != nil || got != want || got == busy {
		t.Errorf("with %s busy: chose %s (%v), want %s, the freest with the lowest id", busy, got, err, want)
	}

	_, _, err = choose(map[string]string{"tag:Tier": "build"})
	if err == nil || !strings.HasPrefix(err.Error(), "subnet_filter: no subnet matches") || !strings.Contains(err.Error(), "tag:Tier") {
		t.Errorf("no match: error %v, want one naming subnet_filter and the filter", err)
	}
}
