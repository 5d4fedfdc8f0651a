package ebs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"

	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// StepENASupport sets ENA support on the stopped instance when ena_support is set: the image
// takes it from the instance. It creates nothing.
type StepENASupport struct {
	ENASupport config.Trilean
}

func (s *StepENASupport) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	if s.ENASupport == config.TriUnset {
		return multistep.ActionContinue
	}
	id := state.Get(launch.StateInstanceID).(string)
	state.Get("ui").(packersdk.Ui).Say(fmt.Sprintf("Setting ENA support of instance %s to %t", id, s.ENASupport.True()))
	_, err := state.Get(launch.StateEC2).(stopAPI).ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId: aws.String(id),
		EnaSupport: &types.AttributeBooleanValue{Value: s.ENASupport.ToBoolPointer()},
	})
	if err != nil {
		return halt(state, fmt.Errorf("ena_support: %w", err))
	}
	return multistep.ActionContinue
}

func (s *StepENASupport) Cleanup(multistep.StateBag) {}
