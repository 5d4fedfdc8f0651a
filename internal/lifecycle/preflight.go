package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
)

// The checks a run makes before its first change, so that whatever AWS can tell in advance stops
// the run while nothing has been changed yet: an error after a change leaves a half-done
// distribution, and Packer deletes the input artifact of a post-processor that fails.

// maxPublicDeprecation is how far ahead EC2 accepts the deprecation time of a public image.
const maxPublicDeprecation = 2 * 365 * 24 * time.Hour

// checkDeprecation refuses a deprecation time EC2 would refuse: a public image cannot be
// deprecated more than two years ahead (the ten-year limit of the others is checked with the
// configuration).
func checkDeprecation(job Job, sources []sourceImage) error {
	if job.DeprecateAfter <= maxPublicDeprecation {
		return nil
	}
	for _, src := range sources {
		if aws.ToBool(src.image.Public) {
			return fmt.Errorf("deprecate_after: %s is public, and EC2 deprecates a public image at most 2 years ahead (%s asked)",
				src.ref, FormatAge(job.DeprecateAfter))
		}
	}
	return nil
}

// checkCopyKeys asks KMS, in each copy region, about every key kms_key_ids names: a key that does
// not exist, is disabled or is pending deletion fails the copy only after the copies began.
func (e *Executor) checkCopyKeys(ctx context.Context, job Job) error {
	for _, region := range job.CopyTo {
		key := job.KMSKeyIDs[region]
		if key == "" || IsAWSManagedEBSKey(key) {
			continue
		}
		md, err := e.describeKey(ctx, region, key)
		if err != nil {
			return fmt.Errorf("kms_key_ids: %w", err)
		}
		if md.KeyState != "" && md.KeyState != kmstypes.KeyStateEnabled {
			return fmt.Errorf("kms_key_ids: the key %s for %s is %s, not Enabled: EC2 cannot encrypt the copy with it", key, region, md.KeyState)
		}
	}
	return nil
}

// dryRunAllowed turns the answer to a DryRun request into nil when EC2 says the call would have
// succeeded (DryRunOperation), and into the refusal otherwise.
func dryRunAllowed(what string, err error) error {
	if err == nil || awsconf.ErrorCode(err) == "DryRunOperation" {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// checkPermissions asks EC2, with DryRun, whether each change the run makes to an existing image
// is allowed: tagging, copying to each region, sharing, deprecating and protecting. Changes to the
// copies themselves cannot be asked about before the copies exist; they are made with tags on
// create, so that the copy is tagged when it exists at all.
func (e *Executor) checkPermissions(ctx context.Context, job Job, sources []sourceImage) error {
	dry := aws.Bool(true)
	for _, src := range sources {
		c, err := e.Clients(ctx, src.ref.Region)
		if err != nil {
			return err
		}
		id := aws.String(src.ref.ImageID)
		if len(job.Tags) > 0 || len(job.SnapshotTags) > 0 {
			_, err := c.EC2.CreateTags(ctx, &ec2.CreateTagsInput{DryRun: dry, Resources: []string{src.ref.ImageID}, Tags: ec2Tags(MergeTags(job.Tags, job.SnapshotTags))})
			if err := dryRunAllowed("tagging "+src.ref.String()+" (ec2:CreateTags)", err); err != nil {
				return err
			}
		}
		if len(job.ShareWithAccounts)+len(job.ShareWithOrgARNs)+len(job.ShareWithOUARNs) > 0 {
			_, err := c.EC2.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{DryRun: dry, ImageId: id, Attribute: aws.String("launchPermission")})
			if err := dryRunAllowed("sharing "+src.ref.String()+" (ec2:ModifyImageAttribute)", err); err != nil {
				return err
			}
			if len(job.ShareWithAccounts) > 0 && len(src.snapshots) > 0 {
				_, err := c.EC2.ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{
					DryRun: dry, SnapshotId: src.snapshots[0].SnapshotId, Attribute: types.SnapshotAttributeNameCreateVolumePermission,
					OperationType: types.OperationTypeAdd, UserIds: job.ShareWithAccounts,
				})
				if err := dryRunAllowed("sharing the snapshots of "+src.ref.String()+" (ec2:ModifySnapshotAttribute)", err); err != nil {
					return err
				}
			}
		}
		if job.DeprecateAfter > 0 {
			_, err := c.EC2.EnableImageDeprecation(ctx, &ec2.EnableImageDeprecationInput{DryRun: dry, ImageId: id, DeprecateAt: aws.Time(DeprecationTime(e.now(), job.DeprecateAfter))})
			if err := dryRunAllowed("deprecating "+src.ref.String()+" (ec2:EnableImageDeprecation)", err); err != nil {
				return err
			}
		}
		if job.DeregistrationProtection {
			_, err := c.EC2.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{DryRun: dry, ImageId: id, WithCooldown: aws.Bool(job.DeregistrationProtectionCooldown)})
			if err := dryRunAllowed("protecting "+src.ref.String()+" (ec2:EnableImageDeregistrationProtection)", err); err != nil {
				return err
			}
		}
	}
	src := sources[0]
	for _, region := range job.CopyTo {
		c, err := e.Clients(ctx, region)
		if err != nil {
			return err
		}
		in := &ec2.CopyImageInput{DryRun: dry, Name: src.image.Name, SourceImageId: aws.String(src.ref.ImageID), SourceRegion: aws.String(src.ref.Region)}
		if key := job.KMSKeyIDs[region]; key != "" {
			in.Encrypted, in.KmsKeyId = aws.Bool(true), aws.String(key)
		} else if job.EncryptCopies {
			in.Encrypted = aws.Bool(true)
		}
		_, err = c.EC2.CopyImage(ctx, in)
		if err := dryRunAllowed(fmt.Sprintf("copying %s to %s (ec2:CopyImage)", src.ref, region), err); err != nil {
			return err
		}
	}
	return nil
}

// checkPruneRights asks EC2, with DryRun, whether the prune may deregister the first image the
// plan deletes and delete the first snapshot, in each region.
func (e *Executor) checkPruneRights(ctx context.Context, plans []PrunePlan) error {
	for _, plan := range plans {
		images, snaps := plan.ImagesToDelete(), plan.SnapshotsToDelete()
		if len(images) == 0 {
			continue
		}
		c, err := e.Clients(ctx, plan.Region)
		if err != nil {
			return err
		}
		_, err = c.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{DryRun: aws.Bool(true), ImageId: aws.String(images[0])})
		if err := dryRunAllowed(fmt.Sprintf("prune: deregistering %s:%s (ec2:DeregisterImage)", plan.Region, images[0]), err); err != nil {
			return err
		}
		if len(snaps) > 0 {
			_, err = c.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{DryRun: aws.Bool(true), SnapshotId: aws.String(snaps[0])})
			if err := dryRunAllowed(fmt.Sprintf("prune: deleting snapshot %s in %s (ec2:DeleteSnapshot)", snaps[0], plan.Region), err); err != nil {
				return err
			}
		}
	}
	return nil
}

// readParameters reads the job's SSM parameter in every region it publishes to, so that a failed
// run can put back what it overwrote. Reading it also proves the parameter is reachable before
// anything changes (SSM has no DryRun).
func (e *Executor) readParameters(ctx context.Context, job Job, regions []string) (map[string]string, error) {
	prev := map[string]string{}
	if job.SSMParameter == "" || job.DryRun {
		return prev, nil
	}
	for _, region := range regions {
		c, err := e.Clients(ctx, region)
		if err != nil {
			return nil, err
		}
		out, err := c.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{job.SSMParameter}})
		if err != nil {
			return nil, fmt.Errorf("ssm_parameter: reading %s in %s (ssm:GetParameters): %w", job.SSMParameter, region, err)
		}
		for _, p := range out.Parameters {
			prev[region] = aws.ToString(p.Value)
		}
	}
	return prev, nil
}

// errNothingChanged marks an error of a run that failed before its first change.
var errNothingChanged = errors.New("nothing was changed")

// NothingChanged reports whether a run's error came before its first change.
func NothingChanged(err error) bool { return errors.Is(err, errNothingChanged) }

// Unchanged marks err as an error that came before the first change: "... (nothing was changed)".
func Unchanged(err error) error { return fmt.Errorf("%w (%w)", err, errNothingChanged) }
