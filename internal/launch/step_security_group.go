package launch

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// stateCallerIngressPending is set when the temporary group still lacks its SSH rule: the
// caller's address is read once the instance has one (StepAuthorizeCaller).
const stateCallerIngressPending = "launch_caller_ingress_pending"

// dependencyViolationWait bounds how long the group's deletion waits for EC2 to release it: the
// network interface of a terminated instance detaches some time after the instance is terminated.
const dependencyViolationWait = 5 * time.Minute

// StepSecurityGroup puts the security groups to launch in (StateSecurityGroupIDs): the given
// SecurityGroupIDs, or a temporary group, tagged on create, in StateVpcID's VPC that lets only the
// SSH port in, from SourceCIDRs, or from the address CheckIPURL answers (a /32), or else from
// the address this machine reaches the instance from, which StepAuthorizeCaller adds once the
// instance has its address. With communicator "none" and no groups given, the instance gets the
// VPC's default group and nothing is created.
//
// Cleanup deletes the temporary group, retrying while EC2 answers DependencyViolation (the
// terminated instance's network interface is still attached).
type StepSecurityGroup struct {
	Session          Session
	Comm             *communicator.Config
	SecurityGroupIDs []string
	SourceCIDRs      []string
	CheckIPURL       string
	Polling          Polling

	// creating is set once CreateSecurityGroup was called: an interrupted call may have created
	// the group, which Cleanup then finds by its name.
	creating bool
	created  string
}

func (s *StepSecurityGroup) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	if len(s.SecurityGroupIDs) > 0 {
		state.Put(StateSecurityGroupIDs, s.SecurityGroupIDs)
		return multistep.ActionContinue
	}
	if s.Comm.Type == "none" {
		return multistep.ActionContinue
	}
	u, api := ui(state), ec2API(state)
	sources := s.SourceCIDRs
	if len(sources) == 0 && s.CheckIPURL != "" {
		ip, err := CallerIPFromURL(ctx, s.CheckIPURL)
		if err != nil {
			return halt(state, fmt.Errorf("temporary_security_group_checkip_url: %w", err))
		}
		sources = []string{HostCIDR(ip)}
	}
	name := s.Session.Name()
	u.Say(fmt.Sprintf("Creating temporary security group %s", name))
	s.creating = true
	out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(name),
		Description:       aws.String(fmt.Sprintf("Temporary group of %s build %s: SSH from the build machine only", s.Session.Component, s.Session.BuildID)),
		VpcId:             aws.String(state.Get(StateVpcID).(string)),
		TagSpecifications: s.Session.TagSpecifications(types.ResourceTypeSecurityGroup),
	})
	if err != nil {
		return halt(state, fmt.Errorf("creating the temporary security group: %w", err))
	}
	s.created = aws.ToString(out.GroupId)
	state.Put(StateTemporaryGroupID, s.created)
	state.Put(StateSecurityGroupIDs, []string{s.created})
	if len(sources) == 0 {
		state.Put(stateCallerIngressPending, true)
		return multistep.ActionContinue
	}
	if err := AuthorizeSSH(ctx, api, s.created, s.Comm.Port(), sources); err != nil {
		return halt(state, err)
	}
	u.Message(fmt.Sprintf("Security group %s lets port %d in from %v", s.created, s.Comm.Port(), sources))
	return multistep.ActionContinue
}

// AuthorizeSSH lets TCP port in from each source CIDR (IPv4 or IPv6).
func AuthorizeSSH(ctx context.Context, api EC2API, groupID string, port int, sources []string) error {
	perm := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(int32(port)), ToPort: aws.Int32(int32(port))}
	for _, cidr := range sources {
		desc := aws.String("SSH from the build machine")
		if isIPv6CIDR(cidr) {
			perm.Ipv6Ranges = append(perm.Ipv6Ranges, types.Ipv6Range{CidrIpv6: aws.String(cidr), Description: desc})
		} else {
			perm.IpRanges = append(perm.IpRanges, types.IpRange{CidrIp: aws.String(cidr), Description: desc})
		}
	}
	_, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(groupID), IpPermissions: []types.IpPermission{perm}})
	if err != nil {
		return fmt.Errorf("letting port %d in to security group %s from %v: %w", port, groupID, sources, err)
	}
	return nil
}

func (s *StepSecurityGroup) Cleanup(state multistep.StateBag) {
	if !s.creating {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	u := ui(state)
	if s.created == "" {
		s.created = s.findCreated(ctx, state)
		if s.created == "" {
			s.creating = false
			return
		}
	}
	u.Say(fmt.Sprintf("Deleting temporary security group %s", s.created))
	if err := DeleteSecurityGroup(ctx, ec2API(state), s.created, s.Polling, func(msg string) { u.Message(msg) }); err != nil {
		u.Error(fmt.Sprintf("%v; delete it by hand, or let the next run's sweep_orphans remove it after %s", err, s.Session.ExpiresAt.Format("2006-01-02 15:04 MST")))
	}
	s.creating, s.created = false, ""
}

// findCreated looks up the group by its name, for a CreateSecurityGroup call whose answer never
// arrived.
func (s *StepSecurityGroup) findCreated(ctx context.Context, state multistep.StateBag) string {
	var id string
	err := RetryCleanup(ctx, "looking up the temporary security group", func(ctx context.Context) error {
		out, err := ec2API(state).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
			{Name: aws.String("group-name"), Values: []string{s.Session.Name()}},
			{Name: aws.String("tag:" + goldentag.BuildID), Values: []string{s.Session.BuildID}},
		}})
		if err == nil && len(out.SecurityGroups) > 0 {
			id = aws.ToString(out.SecurityGroups[0].GroupId)
		}
		return err
	}, nil)
	if err != nil {
		ui(state).Error(err.Error())
	}
	return id
}

// DeleteSecurityGroup deletes a group, waiting out DependencyViolation for up to five minutes
// (with a line each time) and retrying other errors a few times. A group already gone counts as
// deleted.
func DeleteSecurityGroup(ctx context.Context, api EC2API, id string, polling Polling, say func(string)) error {
	deadline := time.Now().Add(dependencyViolationWait)
	return RetryCleanup(ctx, "deleting security group "+id, func(ctx context.Context) error {
		for {
			_, err := api.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			if awsconf.ErrorCode(err) != "DependencyViolation" || time.Now().After(deadline) {
				return err
			}
			say(fmt.Sprintf("Security group %s is still in use by a detaching network interface; retrying in %s", id, polling.Delay()))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(polling.Delay()):
			}
		}
	}, func(err error) bool { return awsconf.ErrorCode(err) == "InvalidGroup.NotFound" })
}
