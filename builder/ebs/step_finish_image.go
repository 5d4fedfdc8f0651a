package ebs

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// StepFinishImage makes the available image final: IMDSv2 required on it (imds_support), the
// temporary marks removed from it and its snapshots (from now on no sweep may take it), and
// deregistration protection turned on last, so that a failure before it still lets
// StepCreateImage's Cleanup deregister the image. It creates nothing.
type StepFinishImage struct {
	Config *Config
}

func (s *StepFinishImage) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	c := s.Config
	ui := state.Get("ui").(packersdk.Ui)
	api := state.Get(launch.StateEC2).(imageAPI)
	built := state.Get(stateImage).(builtImage)
	id := aws.String(built.ImageID)

	if c.IMDSSupport == "v2.0" {
		ui.Say(fmt.Sprintf("Requiring IMDSv2 on AMI %s (imds_support)", built.ImageID))
		if _, err := api.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: id, ImdsSupport: &types.AttributeValue{Value: aws.String("v2.0")}}); err != nil {
			return halt(state, fmt.Errorf("imds_support: %w", err))
		}
	}
	resources := append([]string{built.ImageID}, built.Snapshots...)
	if _, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: resources, Tags: []types.Tag{
		{Key: aws.String(goldentag.Temporary)}, {Key: aws.String(goldentag.ExpiresAt)},
	}}); err != nil {
		return halt(state, fmt.Errorf("removing the temporary marks from AMI %s: %w", built.ImageID, err))
	}
	if p := c.DeregistrationProtection; p.Enabled {
		ui.Say(fmt.Sprintf("Protecting AMI %s against deregistration", built.ImageID))
		if _, err := api.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: id, WithCooldown: aws.Bool(p.WithCooldown)}); err != nil {
			return halt(state, fmt.Errorf("deregistration_protection: %w", err))
		}
	}
	ui.Say(fmt.Sprintf("AMI %s (%s) is ready in %s", built.ImageID, built.Name, built.Region))
	return multistep.ActionContinue
}

func (s *StepFinishImage) Cleanup(multistep.StateBag) {}
