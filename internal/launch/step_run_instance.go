package launch

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// capacityErrors are the RunInstances errors after which the next instance type (or on-demand
// after Spot) is tried: no capacity for the type in the zone, or the type not offered there.
var capacityErrors = []string{"InsufficientInstanceCapacity", "Unsupported", "InsufficientCapacity",
	"SpotMaxPriceTooLow", "MaxSpotInstanceCountExceeded", "InsufficientFreeAddressesInSubnet"}

// StepRunInstance launches the instance from StateSourceImage in StateSubnetID with
// StateSecurityGroupIDs and the key pair of Comm, tagging the instance and its volumes on create,
// waits until it runs and passes its status checks (with progress lines), and puts StateInstance,
// StateInstanceID and StateSSHHost.
//
// Instance types are tried in order on capacity errors; with Spot, each type is tried as Spot,
// then on demand. Cleanup terminates the instance and waits until it is terminated, so that the
// security group and key pair can be deleted after it.
type StepRunInstance struct {
	Session                  Session
	Comm                     *communicator.Config
	InstanceTypes            []string
	Spot                     bool
	AssociatePublicIPAddress config.Trilean
	IAMInstanceProfile       string
	MetadataOptions          MetadataOptions
	UserData                 string
	// BlockDeviceMappings, when set, gives the volumes to launch with for the source image
	// (golden-ebs's root volume); nil keeps the image's.
	BlockDeviceMappings func(image types.Image) ([]types.BlockDeviceMapping, error)
	SSHInterface        string
	Polling             Polling

	// launching is set once RunInstances was called: an interrupted call may have launched an
	// instance whose id never arrived, which Cleanup then finds by the build's tag.
	launching  bool
	instanceID string
	// unanswered is the RunInstances request that got no answer (interrupted, or its connection
	// broke): EC2 may still launch from it after Cleanup's lookup by tag, because a request in
	// flight and DescribeInstances are only eventually consistent. Cleanup sends it again with
	// its client token, which EC2 answers with the instance it launched, if it did.
	unanswered *ec2.RunInstancesInput
}

func (s *StepRunInstance) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	u, api := ui(state), ec2API(state)
	image := state.Get(StateSourceImage).(types.Image)
	id, err := s.launch(ctx, state, api, image)
	if err != nil {
		return halt(state, err)
	}
	s.instanceID = id
	state.Put(StateInstanceID, id)

	instance, err := WaitInstanceState(ctx, api, u, s.Polling, id, types.InstanceStateNameRunning)
	if err != nil {
		return halt(state, err)
	}
	if err := WaitInstanceStatusOK(ctx, api, u, s.Polling, id); err != nil {
		return halt(state, err)
	}
	state.Put(StateInstance, instance)
	if s.Comm.Type == "none" {
		return multistep.ActionContinue
	}
	host, err := SSHAddress(instance, s.SSHInterface)
	if err != nil {
		return halt(state, err)
	}
	state.Put(StateSSHHost, host)
	u.Message(fmt.Sprintf("Instance %s runs at %s", id, host))
	return multistep.ActionContinue
}

// launch tries each instance type (and market) in turn and returns the id of the instance.
func (s *StepRunInstance) launch(ctx context.Context, state multistep.StateBag, api EC2API, image types.Image) (string, error) {
	u := ui(state)
	imageID := aws.ToString(image.ImageId)
	base, err := s.input(state, imageID)
	if err != nil {
		return "", err
	}
	if s.BlockDeviceMappings != nil {
		base.BlockDeviceMappings, err = s.BlockDeviceMappings(image)
	}
	if err != nil {
		return "", err
	}
	var tried []string
	for _, instanceType := range s.InstanceTypes {
		markets := []bool{false}
		if s.Spot {
			markets = []bool{true, false}
		}
		for _, spot := range markets {
			in := *base
			in.InstanceType = types.InstanceType(instanceType)
			in.ClientToken = aws.String(fmt.Sprintf("%s-%s-%t", s.Session.BuildID, instanceType, spot))
			market := "on-demand"
			if spot {
				market = "Spot"
				in.InstanceMarketOptions = &types.InstanceMarketOptionsRequest{
					MarketType:  types.MarketTypeSpot,
					SpotOptions: &types.SpotMarketOptions{SpotInstanceType: types.SpotInstanceTypeOneTime, InstanceInterruptionBehavior: types.InstanceInterruptionBehaviorTerminate},
				}
			}
			u.Say(fmt.Sprintf("Launching a %s instance (%s) from %s", instanceType, market, imageID))
			s.launching = true
			out, err := api.RunInstances(ctx, &in)
			s.unanswered = nil
			if err != nil && awsconf.ErrorCode(err) == "" {
				s.unanswered = &in
			}
			if err == nil && len(out.Instances) > 0 {
				id := aws.ToString(out.Instances[0].InstanceId)
				u.Message(fmt.Sprintf("Instance %s launched", id))
				return id, nil
			}
			if err == nil {
				return "", fmt.Errorf("RunInstances answered no instance")
			}
			code := awsconf.ErrorCode(err)
			if !slices.Contains(capacityErrors, code) {
				return "", fmt.Errorf("launching the instance: %w", err)
			}
			tried = append(tried, fmt.Sprintf("%s %s: %s", market, instanceType, code))
			u.Message(fmt.Sprintf("No %s %s capacity (%s); trying the next option", market, instanceType, code))
		}
	}
	return "", fmt.Errorf("no instance type could be launched: %s", strings.Join(tried, "; "))
}

func (s *StepRunInstance) input(state multistep.StateBag, imageID string) (*ec2.RunInstancesInput, error) {
	subnet := state.Get(StateSubnetID).(string)
	groups, _ := state.GetOk(StateSecurityGroupIDs)
	groupIDs, _ := groups.([]string)
	m := s.MetadataOptions
	in := &ec2.RunInstancesInput{
		ImageId:  aws.String(imageID),
		MinCount: aws.Int32(1),
		MaxCount: aws.Int32(1),
		MetadataOptions: &types.InstanceMetadataOptionsRequest{
			HttpEndpoint:            types.InstanceMetadataEndpointState(m.HTTPEndpoint),
			HttpTokens:              types.HttpTokensState(m.HTTPTokens),
			HttpPutResponseHopLimit: aws.Int32(m.HTTPPutResponseHopLimit),
			InstanceMetadataTags:    types.InstanceMetadataTagsState(m.InstanceMetadataTags),
		},
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorStop,
		TagSpecifications:                 s.Session.TagSpecifications(types.ResourceTypeInstance, types.ResourceTypeVolume),
	}
	if s.Comm.SSHKeyPairName != "" {
		in.KeyName = aws.String(s.Comm.SSHKeyPairName)
	}
	if s.UserData != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(s.UserData)))
	}
	if s.IAMInstanceProfile != "" {
		profile := &types.IamInstanceProfileSpecification{Name: aws.String(s.IAMInstanceProfile)}
		if strings.HasPrefix(s.IAMInstanceProfile, "arn:") {
			profile = &types.IamInstanceProfileSpecification{Arn: aws.String(s.IAMInstanceProfile)}
		}
		in.IamInstanceProfile = profile
	}
	if s.AssociatePublicIPAddress == config.TriUnset {
		in.SubnetId = aws.String(subnet)
		in.SecurityGroupIds = groupIDs
		return in, nil
	}
	// EC2 takes the public address choice only on a network interface, which then carries the
	// subnet and the groups.
	in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{
		DeviceIndex:              aws.Int32(0),
		SubnetId:                 aws.String(subnet),
		Groups:                   groupIDs,
		AssociatePublicIpAddress: s.AssociatePublicIPAddress.ToBoolPointer(),
		DeleteOnTermination:      aws.Bool(true),
	}}
	return in, nil
}

func (s *StepRunInstance) Cleanup(state multistep.StateBag) {
	if !s.launching {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	u, api := ui(state), ec2API(state)
	if s.instanceID == "" && s.unanswered != nil {
		id, err := s.replayUnanswered(ctx, api)
		if err != nil {
			u.Error(err.Error())
		}
		if id != "" {
			u.Message(fmt.Sprintf("The interrupted launch started instance %s", id))
			s.instanceID = id
		}
	}
	ids, err := s.launchedInstances(ctx, api)
	if err != nil {
		u.Error(err.Error())
	}
	for _, id := range ids {
		if err := TerminateInstance(ctx, api, u, s.Polling, id); err != nil {
			u.Error(fmt.Sprintf("%v; terminate it by hand, or let the next run's sweep_orphans remove it after %s", err, s.Session.ExpiresAt.Format("2006-01-02 15:04 MST")))
		}
	}
	s.launching, s.instanceID, s.unanswered = false, "", nil
}

// replayUnanswered sends the unanswered RunInstances request again, with its client token, and
// returns the id of the instance it answers with: the one the first request launched, or one it
// launches now, which Cleanup terminates all the same. Either way no instance stays unknown,
// which no wait for DescribeInstances could promise. An error answer means nothing was launched.
func (s *StepRunInstance) replayUnanswered(ctx context.Context, api EC2API) (string, error) {
	var id string
	err := RetryCleanup(ctx, "asking EC2 what the interrupted RunInstances launched", func(ctx context.Context) error {
		out, err := api.RunInstances(ctx, s.unanswered)
		if err == nil && len(out.Instances) > 0 {
			id = aws.ToString(out.Instances[0].InstanceId)
		}
		return err
	}, func(err error) bool {
		// An answer the SDK would retry (throttling, a 5xx) says nothing yet; any other is final.
		transient := retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
		return awsconf.ErrorCode(err) != "" && !transient
	})
	return id, err
}

// launchedInstances is the instance this step launched, and any other instance the build's tag
// names that is not terminated yet.
func (s *StepRunInstance) launchedInstances(ctx context.Context, api EC2API) ([]string, error) {
	var ids []string
	if s.instanceID != "" {
		ids = append(ids, s.instanceID)
	}
	var found []string
	err := RetryCleanup(ctx, "looking up the build's instances", func(ctx context.Context) error {
		var err error
		found, err = InstancesTagged(ctx, api, goldentag.BuildID, s.Session.BuildID)
		return err
	}, nil)
	for _, id := range found {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, err
}

// liveStates are the instance states in which an instance still holds its network interface.
var liveStates = []string{"pending", "running", "stopping", "stopped", "shutting-down"}

// InstancesTagged lists the ids of the instances tagged key = value that are not terminated.
func InstancesTagged(ctx context.Context, api ec2.DescribeInstancesAPIClient, key, value string) ([]string, error) {
	var ids []string
	pages := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + key), Values: []string{value}},
		{Name: aws.String("instance-state-name"), Values: liveStates},
	}})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
	}
	return ids, nil
}

// TerminateInstance terminates an instance and waits until it is terminated.
func TerminateInstance(ctx context.Context, api EC2API, u packersdk.Ui, polling Polling, id string) error {
	u.Say(fmt.Sprintf("Terminating instance %s", id))
	err := RetryCleanup(ctx, "terminating instance "+id, func(ctx context.Context) error {
		_, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
		return err
	}, func(err error) bool { return awsconf.ErrorCode(err) == "InvalidInstanceID.NotFound" })
	if err != nil {
		return err
	}
	return RetryCleanup(ctx, "waiting for instance "+id+" to terminate", func(ctx context.Context) error {
		_, err := WaitInstanceState(ctx, api, u, polling, id, types.InstanceStateNameTerminated)
		return err
	}, nil)
}

// SSHAddress is the address of the instance to connect to by ssh_interface; without one, the
// public IP when it has one, else the private IP.
func SSHAddress(in *types.Instance, iface string) (string, error) {
	var addr string
	switch iface {
	case SSHInterfacePublicIP:
		addr = aws.ToString(in.PublicIpAddress)
	case SSHInterfacePrivateIP:
		addr = aws.ToString(in.PrivateIpAddress)
	case SSHInterfacePublicDNS:
		addr = aws.ToString(in.PublicDnsName)
	case SSHInterfacePrivateDNS:
		addr = aws.ToString(in.PrivateDnsName)
	default:
		addr = aws.ToString(in.PublicIpAddress)
		if addr == "" {
			addr = aws.ToString(in.PrivateIpAddress)
		}
		iface = "public or private IP"
	}
	if addr == "" {
		return "", fmt.Errorf("ssh_interface: instance %s has no %s", aws.ToString(in.InstanceId), iface)
	}
	return addr, nil
}

// SSHHost is StepConnect's Host function: the address StepRunInstance put.
func SSHHost(state multistep.StateBag) (string, error) {
	host, ok := state.GetOk(StateSSHHost)
	if !ok {
		return "", fmt.Errorf("the instance has no SSH address yet")
	}
	return host.(string), nil
}
