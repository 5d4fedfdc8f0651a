package validate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// gateTimeout bounds the tagging and on_failure calls, which run even after an interrupt.
const gateTimeout = 5 * time.Minute

// gateAPI is every call the gate makes in a region.
type gateAPI interface {
	ec2.DescribeImagesAPIClient
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, optFns ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, optFns ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
}

// gate records the verdict on every image of the artifact (the build region's and the copies'),
// and their snapshots: golden:validation = passed or failed, and golden:validated-at. On a
// failure it applies on_failure.
func (p *PostProcessor) gate(ctx context.Context, ui packersdk.Ui, in amiref.Artifact, v verdict) error {
	c := &p.config
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), gateTimeout)
	defer cancel()
	result := goldentag.ValidationFailed
	if v.Passed() {
		result = goldentag.ValidationPassed
	}
	tags := []types.Tag{
		{Key: aws.String(goldentag.Validation), Value: aws.String(result)},
		{Key: aws.String(goldentag.ValidatedAt), Value: aws.String(v.at.Format(time.RFC3339))},
	}
	var errs []error
	for _, ref := range in.Images {
		client, err := c.AccessConfig.ForRegion(ref.Region).EC2Client(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := gateImage(ctx, client, ui, ref, tags, !v.Passed(), c.OnFailure); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func gateImage(ctx context.Context, api gateAPI, ui packersdk.Ui, ref amiref.Ref, tags []types.Tag, failed bool, onFailure string) error {
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ref.ImageID}})
	if err != nil {
		return fmt.Errorf("looking up %s: %w", ref, err)
	}
	if len(out.Images) == 0 {
		return fmt.Errorf("%s no longer exists", ref)
	}
	snapshots := snapshotsOf(out.Images[0])
	resources := append([]string{ref.ImageID}, snapshots...)
	if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: resources, Tags: tags}); err != nil {
		return fmt.Errorf("tagging %s and its snapshots: %w", ref, err)
	}
	ui.Message(fmt.Sprintf("Tagged %s and %d snapshot(s) %s = %s", ref, len(snapshots), goldentag.Validation, aws.ToString(tags[0].Value)))
	if !failed {
		return nil
	}
	switch onFailure {
	case OnFailureDeprecate:
		// EC2 takes a deprecation time in the future, rounded to the minute.
		at := time.Now().UTC().Add(time.Minute).Truncate(time.Minute).Add(time.Minute)
		if _, err := api.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{ImageId: aws.String(ref.ImageID), DeprecateAt: aws.Time(at)}); err != nil {
			return fmt.Errorf("on_failure: deprecating %s: %w", ref, err)
		}
		ui.Message(fmt.Sprintf("on_failure: %s is deprecated from %s", ref, at.Format(time.RFC3339)))
	case OnFailureDeregister:
		if _, err := api.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(ref.ImageID)}); err != nil {
			return fmt.Errorf("on_failure: deregistering %s: %w", ref, err)
		}
		var errs []error
		for _, id := range snapshots {
			if _, err := api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)}); err != nil && awsconf.ErrorCode(err) != "InvalidSnapshot.NotFound" {
				errs = append(errs, fmt.Errorf("on_failure: deleting snapshot %s of %s: %w", id, ref, err))
			}
		}
		ui.Message(fmt.Sprintf("on_failure: deregistered %s and deleted its %d snapshot(s)", ref, len(snapshots)-len(errs)))
		return errors.Join(errs...)
	}
	return nil
}

func snapshotsOf(img types.Image) []string {
	var ids []string
	for _, bd := range img.BlockDeviceMappings {
		if bd.Ebs != nil && bd.Ebs.SnapshotId != nil {
			ids = append(ids, aws.ToString(bd.Ebs.SnapshotId))
		}
	}
	return ids
}
