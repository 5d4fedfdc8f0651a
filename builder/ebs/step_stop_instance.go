package ebs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// stopAPI is what StepStopInstance and StepENASupport call.
type stopAPI interface {
	ec2.DescribeInstancesAPIClient
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
}

// StepStopInstance stops the instance and waits until it is stopped, so that the image is taken
// from quiet disks. The instance is terminated by launch.StepRunInstance's Cleanup; this step
// creates nothing.
type StepStopInstance struct {
	Polling launch.Polling
}

func (s *StepStopInstance) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	api := state.Get(launch.StateEC2).(stopAPI)
	id := state.Get(launch.StateInstanceID).(string)
	ui.Say(fmt.Sprintf("Stopping instance %s", id))
	if _, err := api.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		return halt(state, fmt.Errorf("stopping instance %s: %w", id, err))
	}
	if _, err := launch.WaitInstanceState(ctx, api, ui, s.Polling, id, types.InstanceStateNameStopped); err != nil {
		return halt(state, err)
	}
	return multistep.ActionContinue
}

func (s *StepStopInstance) Cleanup(multistep.StateBag) {}
