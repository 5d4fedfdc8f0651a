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

// prune plans every region first and prints the plans; only then, unless it is a dry run, does it
// delete. A region whose inventory cannot be read fails the prune before anything is deleted
// anywhere.
func (e *Executor) prune(ctx context.Context, job Job, result Result) (*Report, error) {
	dryRun := job.DryRun || job.Prune.DryRun
	pinned := map[string]string{}
	for _, img := range result.Images {
		if img.CopiedFrom != "" {
			pinned[img.ImageID] = "copy made by this run"
		} else {
			pinned[img.ImageID] = "produced by this build"
		}
	}
	if job.SourceImageID != "" {
		pinned[job.SourceImageID] = "the image this build started from"
	}

	var plans []PrunePlan
	for _, region := range job.PruneRegions() {
		c, err := e.Clients(ctx, region)
		if err != nil {
			return nil, err
		}
		var params []string
		if job.SSMParameter != "" {
			params = append(params, job.SSMParameter)
		}
		inv, err := Collect(ctx, Sources{
			Region: region, AccountID: e.AccountID,
			EC2: c.EC2, SSM: c.SSM, AutoScaling: c.AutoScaling,
			Parameters: params,
		}, job.Prune.Policy, pinned)
		if err != nil {
			return nil, err
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
