package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// ImageDataType is the SSM parameter data type that makes SSM check the value is an AMI id and
// lets EC2 launch from `resolve:ssm:` names.
const ImageDataType = "aws:ec2:image"

// distribute shares, deprecates, protects and publishes one region's image, in that order.
func (e *Executor) distribute(ctx context.Context, job Job, img *RegionImage) error {
	c, err := e.Clients(ctx, img.Region)
	if err != nil {
		return err
	}
	ref := ImageRef{Region: img.Region, ImageID: img.ImageID}
	if err := e.share(ctx, c.EC2, job, ref, img.Snapshots); err != nil {
		return err
	}
	if !job.DryRun {
		img.SharedWith = append(append(append([]string(nil), job.ShareWithAccounts...), job.ShareWithOrgARNs...), job.ShareWithOUARNs...)
	}
	if job.DeprecateAfter > 0 {
		at := DeprecationTime(e.now(), job.DeprecateAfter)
		e.say("%s %s at %s", wouldOr(job.DryRun, "deprecate"), ref, at.Format(time.RFC3339))
		if !job.DryRun {
			if _, err := c.EC2.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{
				ImageId: aws.String(img.ImageID), DeprecateAt: aws.Time(at),
			}); err != nil {
				return fmt.Errorf("deprecating %s: %w", ref, err)
			}
			img.DeprecationTime = &at
		}
	}
	if job.DeregistrationProtection {
		cooldown := ""
		if job.DeregistrationProtectionCooldown {
			cooldown = " with cooldown"
		}
		e.say("%s deregistration protection%s on %s", wouldOr(job.DryRun, "enable"), cooldown, ref)
		if !job.DryRun {
			if _, err := c.EC2.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{
				ImageId: aws.String(img.ImageID), WithCooldown: aws.Bool(job.DeregistrationProtectionCooldown),
			}); err != nil {
				return fmt.Errorf("protecting %s from deregistration: %w", ref, err)
			}
			img.Protected = true
		}
	}
	if job.SSMParameter != "" {
		e.say("%s %s to SSM parameter %s in %s", wouldOr(job.DryRun, "publish"), img.ImageID, job.SSMParameter, img.Region)
		if !job.DryRun {
			if _, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{
				Name:      aws.String(job.SSMParameter),
				Value:     aws.String(img.ImageID),
				Type:      ssmtypes.ParameterTypeString,
				DataType:  aws.String(ImageDataType),
				Overwrite: aws.Bool(true),
			}); err != nil {
				return fmt.Errorf("publishing %s to SSM parameter %s in %s: %w", img.ImageID, job.SSMParameter, img.Region, err)
			}
			img.SSMParameter = job.SSMParameter
		}
	}
	return nil
}

// share grants create-volume permission on the snapshots first, then launch permission on the
// image: if AWS refuses the snapshots (a key other accounts cannot use), the image is not left
// shared but unlaunchable. Snapshots can only be shared with accounts, not with organisations or
// OUs; launching a shared image does not need it, copying or creating volumes from it does.
func (e *Executor) share(ctx context.Context, api EC2API, job Job, ref ImageRef, snapshots []string) error {
	var perms []types.LaunchPermission
	for _, a := range job.ShareWithAccounts {
		perms = append(perms, types.LaunchPermission{UserId: aws.String(a)})
	}
	for _, a := range job.ShareWithOrgARNs {
		perms = append(perms, types.LaunchPermission{OrganizationArn: aws.String(a)})
	}
	for _, a := range job.ShareWithOUARNs {
		perms = append(perms, types.LaunchPermission{OrganizationalUnitArn: aws.String(a)})
	}
	if len(perms) == 0 {
		return nil
	}
	targets := append(append(append([]string(nil), job.ShareWithAccounts...), job.ShareWithOrgARNs...), job.ShareWithOUARNs...)
	e.say("%s %s with %s", wouldOr(job.DryRun, "share"), ref, strings.Join(targets, ", "))
	if job.DryRun {
		return nil
	}
	if len(job.ShareWithAccounts) > 0 {
		for _, snap := range snapshots {
			if _, err := api.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{
				SnapshotId:    aws.String(snap),
				Attribute:     types.SnapshotAttributeNameCreateVolumePermission,
				OperationType: types.OperationTypeAdd,
				UserIds:       job.ShareWithAccounts,
			}); err != nil {
				return fmt.Errorf("sharing snapshot %s of %s: %w", snap, ref, err)
			}
		}
	}
	if _, err := api.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
		ImageId:          aws.String(ref.ImageID),
		LaunchPermission: &types.LaunchPermissionModifications{Add: perms},
	}); err != nil {
		return fmt.Errorf("sharing %s: %w", ref, err)
	}
	return nil
}

// DeprecationTime is when an image deprecated after d from now is deprecated: EC2 keeps the time
// to the minute and refuses one that is not ahead, so it is rounded up to the next whole minute,
// never down into the past.
func DeprecationTime(now time.Time, d time.Duration) time.Time {
	at := now.Add(d).UTC()
	if whole := at.Truncate(time.Minute); whole.Before(at) {
		return whole.Add(time.Minute)
	}
	return at
}
