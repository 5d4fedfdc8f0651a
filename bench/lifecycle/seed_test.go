package lifecycle

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The seed pipeline's lifecycle script, AMILifecycleManager, written again in Go for the
// benchmark only: it is what golden-lifecycle is measured against, call for call. Its defects are
// kept on purpose (they are what it costs): for every AMI old enough to go it lists the account's
// launch templates and reads every template's versions, one DescribeLaunchTemplateVersions per
// template per AMI; it reads no Auto Scaling group; it copies one region after another.

// seedPruneCandidates is the seed's cleanup_old_amis up to its usage check: the images named like
// the pipeline's and available, newest first, past the keep_count newest and older than days_old.
func seedPruneCandidates(images []types.Image, keep int, olderThan time.Duration, now time.Time) []string {
	sort.Slice(images, func(i, j int) bool {
		return aws.ToString(images[i].CreationDate) > aws.ToString(images[j].CreationDate)
	})
	cutoff := now.Add(-olderThan)
	var ids []string
	for i, img := range images {
		created, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
		if i < keep || err != nil || created.After(cutoff) {
			continue
		}
		ids = append(ids, aws.ToString(img.ImageId))
	}
	return ids
}

// seedPrune runs the seed's cleanup_old_amis in dry-run mode against the EC2 API and returns the
// images it would delete.
func seedPrune(ctx context.Context, api *ec2.Client, namePattern string, keep int, olderThan time.Duration, now time.Time) ([]string, error) {
	// get_golden_amis: one call, no paging (boto3's describe_images returns every image when no
	// MaxResults is given).
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners: []string{"self"},
		Filters: []types.Filter{
			{Name: aws.String("name"), Values: []string{namePattern}},
			{Name: aws.String("state"), Values: []string{"available"}},
		},
	})
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, id := range seedPruneCandidates(out.Images, keep, olderThan, now) {
		used, err := seedAMIUsage(ctx, api, id)
		if err != nil {
			return nil, err
		}
		if !used {
			deleted = append(deleted, id)
		}
	}
	return deleted, nil
}

// seedAMIUsage is get_ami_usage: the instances launched from the image, then every launch template's
// versions, a call per template (its `break` leaves only the loop over one template's versions).
func seedAMIUsage(ctx context.Context, api *ec2.Client, id string) (bool, error) {
	used := false
	inst, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("image-id"), Values: []string{id}},
		{Name: aws.String("instance-state-name"), Values: []string{"running", "pending", "stopping"}},
	}})
	if err != nil {
		return false, err
	}
	for _, r := range inst.Reservations {
		used = used || len(r.Instances) > 0
	}
	lts, err := api.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		return false, err
	}
	for _, lt := range lts.LaunchTemplates {
		versions, err := api.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: lt.LaunchTemplateId})
		if err != nil {
			// The seed's bare `except: continue`.
			continue
		}
		for _, v := range versions.LaunchTemplateVersions {
			if v.LaunchTemplateData != nil && aws.ToString(v.LaunchTemplateData.ImageId) == id {
				used = true
				break
			}
		}
	}
	return used, nil
}

// seedPruneCalls is how many calls seedPrune makes on a fleet, computed from the fleet's own
// description: one DescribeImages, then for every candidate a DescribeInstances, a
// DescribeLaunchTemplates and a DescribeLaunchTemplateVersions per template.
func seedPruneCalls(f fleet, keep int, olderThan time.Duration) (calls, candidates int) {
	var images []types.Image
	for _, img := range f.images {
		if img.State != "available" || !strings.HasPrefix(img.Name, pipeline+"-") {
			continue
		}
		images = append(images, types.Image{ImageId: aws.String(img.ID), CreationDate: aws.String(img.CreationDate.Format(time.RFC3339))})
	}
	candidates = len(seedPruneCandidates(images, keep, olderThan, f.now))
	return 1 + candidates*(2+len(f.templates)), candidates
}

// seedCopy is the seed's copy_ami_to_regions: for each region in turn, CopyImage and then
// CreateTags with the source's tags. As written it never waits for a copy; with wait it waits for
// each copy to be available before starting the next, the way a pipeline that needs its copies
// (`aws ec2 wait image-available` after each) runs it.
func seedCopy(ctx context.Context, clients func(region string) *ec2.Client, srcRegion, srcID string, regions []string, wait bool, poll time.Duration) error {
	src, err := clients(srcRegion).DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{srcID}})
	if err != nil {
		return err
	}
	if len(src.Images) == 0 {
		return fmt.Errorf("source image %s not found", srcID)
	}
	img := src.Images[0]
	for _, region := range regions {
		api := clients(region)
		out, err := api.CopyImage(ctx, &ec2.CopyImageInput{
			Name:          aws.String(aws.ToString(img.Name) + "-" + region),
			Description:   aws.String("Copy of " + srcID + " from " + srcRegion),
			SourceImageId: aws.String(srcID),
			SourceRegion:  aws.String(srcRegion),
		})
		if err != nil {
			return err
		}
		tags := append(append([]types.Tag(nil), img.Tags...),
			types.Tag{Key: aws.String("SourceAMI"), Value: aws.String(srcID)},
			types.Tag{Key: aws.String("SourceRegion"), Value: aws.String(srcRegion)})
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{aws.ToString(out.ImageId)}, Tags: tags}); err != nil {
			return err
		}
		if !wait {
			continue
		}
		// The same waiter golden-lifecycle polls with, with the same delays.
		w := ec2.NewImageAvailableWaiter(api, func(o *ec2.ImageAvailableWaiterOptions) {
			o.MinDelay, o.MaxDelay = poll, max(poll, 4*poll)
		})
		if err := w.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(out.ImageId)}}, 10*time.Minute); err != nil {
			return fmt.Errorf("waiting for the copy in %s: %w", region, err)
		}
	}
	return nil
}
