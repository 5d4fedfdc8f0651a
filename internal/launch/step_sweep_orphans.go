package launch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// StepSweepOrphans deletes what killed runs left behind in the account and region: every
// resource tagged golden:temporary = true whose golden:expires-at has passed. Instances first
// (terminated and waited for, which frees their groups), then images (deregistered) and
// snapshots, security groups, key pairs. Each deletion is reported; a resource that cannot be
// deleted is reported and left for the next run, and never fails this one.
//
// A resource without a readable expiry is left alone: it was not made by these steps, or a user
// edited its tags, and it is not this run's to judge. Cleanup has nothing to do.
type StepSweepOrphans struct {
	Enabled bool
	Polling Polling
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (s *StepSweepOrphans) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	if !s.Enabled {
		return multistep.ActionContinue
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	u := ui(state)
	u.Say("Sweeping expired temporary resources of earlier runs (sweep_orphans)")
	removed, err := SweepOrphans(ctx, ec2API(state), u, s.Polling, now)
	if err != nil {
		u.Error(fmt.Sprintf("sweep_orphans: %v (the build goes on; the next run tries again)", err))
	}
	if removed == 0 && err == nil {
		u.Message("No expired temporary resources")
	}
	if ctx.Err() != nil {
		return halt(state, ctx.Err())
	}
	return multistep.ActionContinue
}

func (s *StepSweepOrphans) Cleanup(multistep.StateBag) {}

// temporaryFilter selects the resources marked temporary.
func temporaryFilter() []types.Filter {
	return []types.Filter{{Name: aws.String("tag:" + goldentag.Temporary), Values: []string{goldentag.TemporaryTrue}}}
}

// expired reports whether tags carry a golden:expires-at before now.
func expired(tags []types.Tag, now time.Time) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == goldentag.ExpiresAt {
			at, err := time.Parse(time.RFC3339, aws.ToString(t.Value))
			return err == nil && at.Before(now)
		}
	}
	return false
}

func buildOf(tags []types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == goldentag.BuildID {
			return aws.ToString(t.Value)
		}
	}
	return "unknown"
}

// SweepOrphans deletes the expired temporary resources and returns how many it removed. Errors
// of single deletions are joined; the sweep goes on past them.
func SweepOrphans(ctx context.Context, api EC2API, u packersdk.Ui, polling Polling, now time.Time) (int, error) {
	var errs []error
	removed := 0
	report := func(kind, id string, tags []types.Tag, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", kind, id, err))
			return
		}
		removed++
		u.Message(fmt.Sprintf("Removed expired %s %s (build %s)", kind, id, buildOf(tags)))
	}

	// Instances: terminate all first, then wait, so a sweep of many costs one wait.
	var instances []types.Instance
	pages := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: append(temporaryFilter(),
		types.Filter{Name: aws.String("instance-state-name"), Values: liveStates})})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return removed, fmt.Errorf("listing temporary instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				if expired(in.Tags, now) {
					instances = append(instances, in)
				}
			}
		}
	}
	for _, in := range instances {
		id := aws.ToString(in.InstanceId)
		report("instance", id, in.Tags, TerminateInstance(ctx, api, u, polling, id))
	}

	images, err := listImages(ctx, api, now)
	if err != nil {
		return removed, err
	}
	for _, img := range images {
		id := aws.ToString(img.ImageId)
		_, err := api.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: img.ImageId})
		report("image", id, img.Tags, err)
	}

	snapshots := ec2.NewDescribeSnapshotsPaginator(api, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: temporaryFilter()})
	for snapshots.HasMorePages() {
		page, err := snapshots.NextPage(ctx)
		if err != nil {
			return removed, fmt.Errorf("listing temporary snapshots: %w", err)
		}
		for _, sn := range page.Snapshots {
			if expired(sn.Tags, now) {
				_, err := api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: sn.SnapshotId})
				report("snapshot", aws.ToString(sn.SnapshotId), sn.Tags, err)
			}
		}
	}

	groups := ec2.NewDescribeSecurityGroupsPaginator(api, &ec2.DescribeSecurityGroupsInput{Filters: temporaryFilter()})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return removed, fmt.Errorf("listing temporary security groups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			if expired(g.Tags, now) {
				id := aws.ToString(g.GroupId)
				report("security group", id, g.Tags, DeleteSecurityGroup(ctx, api, id, polling, u.Message))
			}
		}
	}

	keys, err := api.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: temporaryFilter()})
	if err != nil {
		return removed, fmt.Errorf("listing temporary key pairs: %w", err)
	}
	for _, k := range keys.KeyPairs {
		if expired(k.Tags, now) {
			_, err := api.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyPairId: k.KeyPairId})
			report("key pair", aws.ToString(k.KeyName), k.Tags, err)
		}
	}
	return removed, errors.Join(errs...)
}

func listImages(ctx context.Context, api EC2API, now time.Time) ([]types.Image, error) {
	var out []types.Image
	pages := ec2.NewDescribeImagesPaginator(api, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: temporaryFilter(), IncludeDeprecated: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing temporary images: %w", err)
		}
		for _, img := range page.Images {
			if expired(img.Tags, now) {
				out = append(out, img)
			}
		}
	}
	return out, nil
}
