package ebs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// imageAPI is what the image steps and the artifact call.
type imageAPI interface {
	launch.EC2API
	CreateImage(ctx context.Context, in *ec2.CreateImageInput, optFns ...func(*ec2.Options)) (*ec2.CreateImageOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, optFns ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	ModifyImageAttribute(ctx context.Context, in *ec2.ModifyImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyImageAttributeOutput, error)
	EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, optFns ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error)
}

// builtImage is the image the build made.
type builtImage struct {
	Region, ImageID, Name string
	SourceAMI             string
	Snapshots             []string
	Tags                  map[string]string
}

// StepCreateImage images the stopped instance with CreateImage, tagging the image and its
// snapshots on create, and waits until the image is available, printing its progress. Until
// StepFinishImage has run, image and snapshots are marked golden:temporary with the build's
// expiry: a killed build's half-made image is then swept like its instance.
//
// Cleanup, when the build failed or was interrupted, deregisters the image (found by the build's
// tag if CreateImage's answer never arrived) and deletes its snapshots.
type StepCreateImage struct {
	Config  *Config
	Session launch.Session

	creating bool
	imageID  string
}

func (s *StepCreateImage) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	c := s.Config
	ui := state.Get("ui").(packersdk.Ui)
	api := state.Get(launch.StateEC2).(imageAPI)
	source := aws.ToString(state.Get(launch.StateSourceImage).(types.Image).ImageId)
	instanceID := state.Get(launch.StateInstanceID).(string)

	ui.Say(fmt.Sprintf("Creating AMI %q from instance %s", c.AMIName, instanceID))
	s.creating = true
	out, err := api.CreateImage(ctx, &ec2.CreateImageInput{
		InstanceId:  aws.String(instanceID),
		Name:        aws.String(c.AMIName),
		Description: optional(c.AMIDescription),
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeImage, Tags: launch.EC2Tags(s.tags(c.Tags, source, true))},
			{ResourceType: types.ResourceTypeSnapshot, Tags: launch.EC2Tags(s.tags(c.SnapshotTags, source, true))},
		},
	})
	if err != nil {
		return halt(state, fmt.Errorf("creating the AMI: %w", err))
	}
	s.imageID = aws.ToString(out.ImageId)
	ui.Message(fmt.Sprintf("AMI %s created", s.imageID))

	image, err := waitImageAvailable(ctx, api, ui, c.Polling, s.imageID)
	if err != nil {
		return halt(state, err)
	}
	built := builtImage{Region: c.Region, ImageID: s.imageID, Name: c.AMIName, SourceAMI: source, Tags: s.tags(c.Tags, source, false)}
	for _, m := range image.BlockDeviceMappings {
		if m.Ebs != nil && m.Ebs.SnapshotId != nil {
			built.Snapshots = append(built.Snapshots, aws.ToString(m.Ebs.SnapshotId))
		}
	}
	state.Put(stateImage, built)
	return multistep.ActionContinue
}

// tags are the user's tags plus the build's provenance, and while the image is unfinished the
// temporary marks.
func (s *StepCreateImage) tags(user map[string]string, source string, unfinished bool) map[string]string {
	m := map[string]string{}
	for k, v := range user {
		m[k] = v
	}
	m[goldentag.BuildID] = s.Session.BuildID
	m[goldentag.SourceAMI] = source
	if unfinished {
		m[goldentag.Temporary] = goldentag.TemporaryTrue
		m[goldentag.ExpiresAt] = s.Session.ExpiresAt.Format(time.RFC3339)
	}
	return m
}

func waitImageAvailable(ctx context.Context, api imageAPI, ui packersdk.Ui, polling launch.Polling, id string) (types.Image, error) {
	progress := launch.NewProgress(ui, fmt.Sprintf("AMI %s to be available", id))
	delay := polling.Delay()
	out, err := ec2.NewImageAvailableWaiter(api, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = delay, delay
		base := o.Retryable
		o.Retryable = func(ctx context.Context, in *ec2.DescribeImagesInput, out *ec2.DescribeImagesOutput, err error) (bool, error) {
			retry, rerr := base(ctx, in, out, err)
			if retry {
				status := "not visible yet"
				if out != nil && len(out.Images) > 0 {
					status = string(out.Images[0].State)
				}
				progress.Report(status)
			}
			return retry, rerr
		}
	}).WaitForOutput(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, polling.MaxWait(launch.DefaultImageWait))
	if err != nil {
		return types.Image{}, fmt.Errorf("waiting for AMI %s to be available: %w", id, err)
	}
	progress.Done("available")
	return out.Images[0], nil
}

func (s *StepCreateImage) Cleanup(state multistep.StateBag) {
	if !s.creating || !launch.Failed(state) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), launch.CleanupTimeout)
	defer cancel()
	ui := state.Get("ui").(packersdk.Ui)
	api := state.Get(launch.StateEC2).(imageAPI)
	err := launch.RetryCleanup(ctx, "deleting the unfinished AMI", func(ctx context.Context) error {
		return deleteBuildImages(ctx, api, ui, s.Session.BuildID, s.imageID)
	}, nil)
	if err != nil {
		ui.Error(fmt.Sprintf("%v; delete them by hand, or let the next run's sweep_orphans remove them after %s", err, s.Session.ExpiresAt.Format("2006-01-02 15:04 MST")))
	}
	s.creating, s.imageID = false, ""
}

// deleteBuildImages deregisters the build's image (knownID, and any other image tagged with the
// build id) and deletes the snapshots tagged with the build id.
func deleteBuildImages(ctx context.Context, api imageAPI, ui packersdk.Ui, buildID, knownID string) error {
	byBuild := []types.Filter{{Name: aws.String("tag:" + goldentag.BuildID), Values: []string{buildID}}}
	var ids []string
	if knownID != "" {
		ids = append(ids, knownID)
	}
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: byBuild, IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("looking up the build's AMI: %w", err)
	}
	for _, img := range out.Images {
		if id := aws.ToString(img.ImageId); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		ui.Say(fmt.Sprintf("Deregistering the unfinished AMI %s", id))
		_, err := api.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
		if err != nil && awsconf.ErrorCode(err) != "InvalidAMIID.NotFound" && awsconf.ErrorCode(err) != "InvalidAMIID.Unavailable" {
			return fmt.Errorf("deregistering AMI %s: %w", id, err)
		}
	}
	snaps, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: byBuild})
	if err != nil {
		return fmt.Errorf("looking up the build's snapshots: %w", err)
	}
	for _, sn := range snaps.Snapshots {
		ui.Say(fmt.Sprintf("Deleting snapshot %s", aws.ToString(sn.SnapshotId)))
		if _, err := api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: sn.SnapshotId}); err != nil && awsconf.ErrorCode(err) != "InvalidSnapshot.NotFound" {
			return fmt.Errorf("deleting snapshot %s: %w", aws.ToString(sn.SnapshotId), err)
		}
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
