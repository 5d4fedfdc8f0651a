package lifecycle

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/golden-ami/packer-plugin-golden/internal/acceptance"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

//go:embed test-fixtures/copy-prune.pkr.hcl
var copyPruneTemplate string

// TestAccPostProcessor_copyAndPrune builds a small Debian 12 AMI with amazon-ebs and runs
// golden-lifecycle on it against real AWS (only with PACKER_ACC=1: `make testacc`): tags, a copy
// to a second region, deprecation, the SSM parameter in both regions, and a dry-run prune that
// must keep the image just built and its copy. The checks read the result back from AWS, not only
// from the manifest.
//
// Cleanup: the teardown deregisters both images with their snapshots and deletes the parameter.
// If a run is killed first, its leftovers carry the tag golden:acc (instance) and Pipeline =
// golden-acc-lifecycle-<unix time> (images, snapshots): deregister those images with
// `aws ec2 deregister-image --delete-associated-snapshots` in both regions and delete the SSM
// parameter /golden-acc/<that name>/latest.
func TestAccPostProcessor_copyAndPrune(t *testing.T) {
	region, copyRegion := acceptance.Region(), acceptance.CopyRegion()
	runName := acceptance.RunName("lifecycle")
	parameter := "/golden-acc/" + runName + "/latest"
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	tc := acceptance.NewCase("golden_lifecycle_copy_prune", acceptance.DebianEBS, copyPruneTemplate, map[string]string{
		"run_name": runName, "copy_region": copyRegion, "ssm_parameter": parameter, "manifest": manifest,
	})
	tc.Check = func(build *exec.Cmd, logfile string) error {
		if err := acceptance.BuildSucceeded(build, logfile); err != nil {
			return err
		}
		var m lifecycle.Manifest
		if err := acceptance.ReadJSON(manifest, &m); err != nil {
			return err
		}
		if err := checkManifest(m, region, copyRegion, runName); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		return checkInAWS(ctx, m, runName, parameter)
	}
	tc.Teardown = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var errs []error
		for _, r := range []string{region, copyRegion} {
			ids, err := acceptance.CleanUpImages(ctx, r, "Pipeline", runName)
			t.Logf("cleanup in %s: deregistered %v", r, ids)
			errs = append(errs, err, acceptance.DeleteParameter(ctx, r, parameter))
		}
		return errors.Join(errs...)
	}
	acctest.TestPlugin(t, tc)
}

// checkManifest: the image in both regions, the copy made from the source, and a prune plan per
// region that keeps the run's own images as pinned and deletes nothing.
func checkManifest(m lifecycle.Manifest, region, copyRegion, pipeline string) error {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	source := m.AMIs[region]
	if m.Source.Region != region || m.Source.ImageID != source || len(m.AMIs) != 2 || m.AMIs[copyRegion] == "" || m.AMIs[copyRegion] == source {
		fail("source %s and images %v, want the built image in %s and a copy in %s", m.Source, m.AMIs, region, copyRegion)
	}
	for _, img := range m.Images {
		if img.Region == copyRegion && img.CopiedFrom != region+":"+source {
			fail("the copy in %s says it was copied from %q, want %s:%s", copyRegion, img.CopiedFrom, region, source)
		}
		if len(img.Snapshots) == 0 {
			fail("%s in %s has no snapshots in the manifest", img.ImageID, img.Region)
		}
	}
	if m.Prune == nil {
		return fmt.Errorf("manifest: %s; and no prune report", strings.Join(problems, "; "))
	}
	if !m.Prune.DryRun || m.Prune.ImagesDeleted != 0 {
		fail("prune: dry_run %v, %d images deleted; want a dry run deleting nothing", m.Prune.DryRun, m.Prune.ImagesDeleted)
	}
	var planned []string
	for _, plan := range m.Prune.Plans {
		planned = append(planned, plan.Region)
		if len(plan.Images) != 1 || plan.Images[0].ImageID != m.AMIs[plan.Region] {
			fail("prune plan for %s (pipeline %s) decides on %d images, want only %s", plan.Region, pipeline, len(plan.Images), m.AMIs[plan.Region])
			continue
		}
		d := plan.Images[0]
		pinned := slices.ContainsFunc(d.Reasons, func(r lifecycle.Reason) bool { return r.Code == lifecycle.ReasonPinned })
		if d.Action != lifecycle.Keep || !pinned {
			fail("prune plan for %s: %s %s for %+v, want keep as pinned", plan.Region, d.Action, d.ImageID, d.Reasons)
		}
	}
	want := []string{region, copyRegion}
	slices.Sort(planned)
	slices.Sort(want)
	if !slices.Equal(planned, want) {
		fail("prune planned regions %v, want %v", planned, want)
	}
	if len(problems) > 0 {
		return fmt.Errorf("manifest: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkInAWS reads each region's image and parameter back from AWS: available, tagged, deprecated
// about a day from now, and the parameter naming the region's image.
func checkInAWS(ctx context.Context, m lifecycle.Manifest, pipeline, parameter string) error {
	var errs []error
	for region, id := range m.AMIs {
		access := &awsconf.AccessConfig{Region: region}
		ec2c, err := access.EC2Client(ctx)
		if err != nil {
			return err
		}
		out, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDeprecated: aws.Bool(true)})
		if err != nil {
			errs = append(errs, fmt.Errorf("describing %s in %s: %w", id, region, err))
			continue
		}
		if len(out.Images) != 1 {
			errs = append(errs, fmt.Errorf("%s in %s: not found", id, region))
			continue
		}
		img := out.Images[0]
		if img.State != "available" || lifecycle.TagMap(img.Tags)["Pipeline"] != pipeline {
			errs = append(errs, fmt.Errorf("%s in %s: state %s, tags %v; want available and tagged Pipeline=%s", id, region, img.State, lifecycle.TagMap(img.Tags), pipeline))
		}
		deprecation, err := time.Parse(time.RFC3339, aws.ToString(img.DeprecationTime))
		if left := time.Until(deprecation); err != nil || left < 12*time.Hour || left > 36*time.Hour {
			errs = append(errs, fmt.Errorf("%s in %s: deprecation time %q, want a day from now", id, region, aws.ToString(img.DeprecationTime)))
		}
		ssmc, err := access.SSMClient(ctx)
		if err != nil {
			return err
		}
		p, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(parameter)})
		if err != nil || aws.ToString(p.Parameter.Value) != id {
			errs = append(errs, fmt.Errorf("SSM parameter %s in %s: %v, want %s", parameter, region, err, id))
		}
	}
	return errors.Join(errs...)
}
