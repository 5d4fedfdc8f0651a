package lifecycle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
)

// PruneRegions returns the regions a prune works in: the configured ones, else every region the
// image is in after the run.
func (j Job) PruneRegions() []string {
	if j.Prune != nil && len(j.Prune.Regions) > 0 {
		return j.Prune.Regions
	}
	regions := []string{j.Source.Region}
	for _, r := range j.AlsoIn {
		regions = append(regions, r.Region)
	}
	return append(regions, j.CopyTo...)
}

// pinnedImages maps the images of a run to why the prune keeps them: the build's image, its
// copies, and the image the build started from.
func pinnedImages(job Job, images []RegionImage) map[string]string {
	pinned := map[string]string{}
	for _, img := range images {
		if img.CopiedFrom != "" {
			pinned[img.ImageID] = "copy made by this run"
		} else {
			pinned[img.ImageID] = "produced by this build"
		}
	}
	if job.SourceImageID != "" {
		pinned[job.SourceImageID] = "the image this build started from"
	}
	return pinned
}

// plannedCopyPrefix marks, in the inventory read before the run, a copy the run is going to make.
const plannedCopyPrefix = "planned-copy-to-"

// plannedResult is the run's result as the prune must foresee it before the first change: the
// sources as they are, and each copy as it will be (selected and ranked like the real copy).
func plannedResult(job Job, sources []sourceImage) []RegionImage {
	var images []RegionImage
	for _, src := range sources {
		images = append(images, src.regionImage(job))
	}
	for _, region := range job.CopyTo {
		images = append(images, RegionImage{
			Region: region, ImageID: plannedCopyPrefix + region, Name: aws.ToString(sources[0].image.Name),
			CopiedFrom: sources[0].ref.String(), Tags: MergeTags(userTags(sources[0].image.Tags), job.Tags),
		})
	}
	return images
}

// collectAll reads the inventory of every prune region. images are the run's images (made or
// planned): each is pinned, and one that does not exist yet is added to its region's inventory so
// that it takes its place among the newest.
func (e *Executor) collectAll(ctx context.Context, job Job, images []RegionImage) (map[string]Inventory, error) {
	pinned := pinnedImages(job, images)
	var params []string
	if job.SSMParameter != "" {
		params = append(params, job.SSMParameter)
	}
	out := map[string]Inventory{}
	for _, region := range job.PruneRegions() {
		c, err := e.Clients(ctx, region)
		if err != nil {
			return nil, err
		}
		var planned []Image
		for _, img := range images {
			if img.Region == region && strings.HasPrefix(img.ImageID, plannedCopyPrefix) {
				planned = append(planned, Image{
					ID: img.ImageID, Name: img.Name, OwnerID: e.AccountID, State: "available",
					CreationDate: e.now(), Tags: img.Tags,
				})
			}
		}
		inv, err := Collect(ctx, Sources{
			Region: region, AccountID: e.AccountID,
			EC2: c.EC2, SSM: c.SSM, AutoScaling: c.AutoScaling,
			Parameters: params, Planned: planned, Log: e.messageOnce,
		}, job.Prune.Policy, pinned)
		if err != nil {
			return nil, err
		}
		out[region] = inv
	}
	return out, nil
}

// withoutOwnParameter drops, from an inventory read before the run, the uses through the job's
// own SSM parameter: the run points it at its new image.
func withoutOwnParameter(job Job, inv Inventory) Inventory {
	if job.SSMParameter == "" {
		return inv
	}
	var uses []Use
	for _, u := range inv.Uses {
		if u.Kind == UseSSMParameter && sameParameter(u.Resource, job.SSMParameter) {
			continue
		}
		uses = append(uses, u)
	}
	inv.Uses = uses
	return inv
}

// mergeUses returns the inventory read after the distribution with the uses found before the run
// added: an image in use at either time is kept. A use through the job's own parameter counts only
// where the run did not publish the parameter.
func mergeUses(job Job, now, before Inventory, published map[string]bool) Inventory {
	if published[now.Region] {
		before = withoutOwnParameter(job, before)
	}
	now.Uses = append(append([]Use(nil), now.Uses...), before.Uses...)
	return now
}

// prune plans every region first and prints the plans; only then, unless it is a dry run, does it
// delete. The inventory is read again after the distribution and merged with the one read before
// the run (see mergeUses). A region whose inventory cannot be read fails the prune before anything
// is deleted anywhere.
func (e *Executor) prune(ctx context.Context, job Job, result Result, before map[string]Inventory) (*Report, error) {
	dryRun := job.DryRun || job.Prune.DryRun
	after, err := e.collectAll(ctx, job, result.Images)
	if err != nil {
		return nil, err
	}
	published := map[string]bool{}
	for _, img := range result.Images {
		if img.SSMParameter != "" {
			published[img.Region] = true
		}
	}
	var plans []PrunePlan
	for _, region := range job.PruneRegions() {
		inv := after[region]
		if prev, ok := before[region]; ok {
			inv = mergeUses(job, inv, prev, published)
		}
		plans = append(plans, Plan(inv, job.Prune.Policy, e.now()))
	}
	report := NewReport(plans, dryRun, e.now())
	var table bytes.Buffer
	if err := report.WriteTable(&table); err != nil {
		return &report, err
	}
	e.say("%s", strings.TrimRight(table.String(), "\n"))
	if dryRun {
		return &report, nil
	}

	var errs []error
	for _, plan := range plans {
		if err := e.carryOut(ctx, plan); err != nil {
			errs = append(errs, err)
		}
	}
	return &report, errors.Join(errs...)
}

// carryOut deregisters the plan's images, oldest first, then deletes the snapshots of the deleted
// images. A snapshot is deleted only when every image it backed was really deregistered: an image
// EC2 refused to deregister still needs its snapshots.
func (e *Executor) carryOut(ctx context.Context, plan PrunePlan) error {
	c, err := e.Clients(ctx, plan.Region)
	if err != nil {
		return err
	}
	var errs []error
	gone := map[string]bool{}
	for _, id := range plan.ImagesToDelete() {
		// An image another prune deregistered meanwhile is Unavailable, later NotFound: gone either
		// way, and its snapshots are still this plan's to delete.
		if _, err := c.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil && !imageGone(err) {
			errs = append(errs, fmt.Errorf("deregistering %s:%s: %w", plan.Region, id, err))
			continue
		}
		gone[id] = true
		e.message("%s: deregistered %s", plan.Region, id)
	}
	for _, s := range plan.Snapshots {
		if s.Action != Delete || !allIn(s.ImageIDs, gone) {
			continue
		}
		if err := deleteSnapshot(ctx, c.EC2, s.SnapshotID); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", plan.Region, err))
			continue
		}
		e.message("%s: deleted snapshot %s (%d GiB)", plan.Region, s.SnapshotID, s.SizeGiB)
	}
	return errors.Join(errs...)
}

func allIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if !set[id] {
			return false
		}
	}
	return true
}

// imageGone reports whether an error says the image is already deregistered.
func imageGone(err error) bool {
	code := awsconf.ErrorCode(err)
	return code == "InvalidAMIID.NotFound" || code == "InvalidAMIID.Unavailable"
}
