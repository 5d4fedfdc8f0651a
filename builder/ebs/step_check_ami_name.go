package ebs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// StepCheckAMIName fails the build before anything is launched when the account already has an
// AMI of that name: CreateImage would refuse it only after the whole build. It creates nothing.
type StepCheckAMIName struct {
	Name string
}

func (s *StepCheckAMIName) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	ui.Say(fmt.Sprintf("Checking that no AMI of the account is named %q", s.Name))
	out, err := state.Get(launch.StateEC2).(launch.EC2API).DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:            []string{"self"},
		Filters:           []types.Filter{{Name: aws.String("name"), Values: []string{escapeFilterValue(s.Name)}}},
		IncludeDeprecated: aws.Bool(true),
		IncludeDisabled:   aws.Bool(true),
	})
	if err != nil {
		return halt(state, fmt.Errorf("looking for AMIs named %q: %w", s.Name, err))
	}
	if len(out.Images) > 0 {
		return halt(state, fmt.Errorf("ami_name: the account already has an AMI named %q (%s); choose another name, e.g. with {{timestamp}}", s.Name, aws.ToString(out.Images[0].ImageId)))
	}
	return multistep.ActionContinue
}

func (s *StepCheckAMIName) Cleanup(multistep.StateBag) {}
