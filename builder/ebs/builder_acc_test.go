package ebs

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/golden-ami/packer-plugin-golden/internal/acceptance"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

//go:embed test-fixtures/ubuntu.pkr.hcl
var ubuntuTemplate string

// TestAccBuilder_ubuntu builds an Ubuntu 22.04 AMI with golden-ebs against real AWS (only with
// PACKER_ACC=1: `make testacc`, which installs the plugin with `make dev` first) and reads the
// result back from AWS: the AMI available, tagged, IMDSv2 only, its snapshots encrypted gp3; and
// nothing of the build left running: no instance, security group or key pair of its build id.
//
// Cleanup: the teardown deregisters the AMI with its snapshots. If a run is killed first, its
// leftovers carry golden:acc = golden-acc-ebs-<unix time> (instance, group, key pair, which the
// next golden-ebs build's sweep_orphans also removes once expired) and Pipeline = that name (AMI,
// snapshots): deregister that AMI with `aws ec2 deregister-image --delete-associated-snapshots`.
func TestAccBuilder_ubuntu(t *testing.T) {
	region := acceptance.Region()
	runName := acceptance.RunName("ebs")
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	tc := &acctest.PluginTestCase{
		Name:     "golden_ebs_ubuntu",
		Template: ubuntuTemplate,
		BuildExtraArgs: acceptance.Vars(map[string]string{
			"region": region, "run_name": runName, "manifest": manifest,
		}),
	}
	tc.Check = func(build *exec.Cmd, logfile string) error {
		if err := acceptance.BuildSucceeded(build, logfile); err != nil {
			return err
		}
		var m acceptance.PackerManifest
		if err := acceptance.ReadJSON(manifest, &m); err != nil {
			return err
		}
		if len(m.Builds) != 1 || m.Builds[0].BuilderType != "golden-ebs" {
			return fmt.Errorf("manifest: %+v, want one golden-ebs build", m.Builds)
		}
		b := m.Builds[0]
		gotRegion, id, ok := strings.Cut(b.ArtifactID, ":")
		if !ok || gotRegion != region || !strings.HasPrefix(id, "ami-") {
			return fmt.Errorf("manifest: artifact id %q, want %s:ami-...", b.ArtifactID, region)
		}
		if b.CustomData["build_region"] != region || !strings.HasPrefix(b.CustomData["source_ami"], "ami-") {
			return fmt.Errorf("manifest: generated data %v, want build_region %s and a source_ami", b.CustomData, region)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		return checkBuiltInAWS(ctx, region, id, b.CustomData["source_ami"], runName)
	}
	tc.Teardown = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		ids, err := acceptance.CleanUpImages(ctx, region, "Pipeline", runName)
		t.Logf("cleanup in %s: deregistered %v", region, ids)
		return err
	}
	acctest.TestPlugin(t, tc)
}

// checkBuiltInAWS reads the AMI and what its build left from AWS.
func checkBuiltInAWS(ctx context.Context, region, id, source, pipeline string) error {
	access := &awsconf.AccessConfig{Region: region}
	client, err := access.EC2Client(ctx)
	if err != nil {
		return err
	}
	out, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		return fmt.Errorf("describing %s: %w", id, err)
	}
	if len(out.Images) != 1 {
		return fmt.Errorf("%s: not found", id)
	}
	img := out.Images[0]
	tags := map[string]string{}
	for _, tag := range img.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	var errs []error
	buildID := tags[goldentag.BuildID]
	if img.State != types.ImageStateAvailable || tags["Pipeline"] != pipeline || buildID == "" || tags[goldentag.SourceAMI] != source || tags[goldentag.Temporary] != "" {
		errs = append(errs, fmt.Errorf("%s: state %s, tags %v; want available, Pipeline=%s, %s set, %s=%s, no temporary mark",
			id, img.State, tags, pipeline, goldentag.BuildID, goldentag.SourceAMI, source))
	}
	if img.ImdsSupport != types.ImdsSupportValuesV20 {
		errs = append(errs, fmt.Errorf("%s: imds support %q, want v2.0", id, img.ImdsSupport))
	}
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs == nil {
			continue
		}
		if !aws.ToBool(m.Ebs.Encrypted) || m.Ebs.VolumeType != types.VolumeTypeGp3 {
			errs = append(errs, fmt.Errorf("%s: %s maps snapshot %s encrypted=%t type %s, want encrypted gp3",
				id, aws.ToString(m.DeviceName), aws.ToString(m.Ebs.SnapshotId), aws.ToBool(m.Ebs.Encrypted), m.Ebs.VolumeType))
		}
	}
	if buildID != "" {
		errs = append(errs, checkNothingLeft(ctx, client, buildID))
	}
	return errors.Join(errs...)
}

// checkNothingLeft looks for the build's temporary instance, security group and key pair.
func checkNothingLeft(ctx context.Context, client *ec2.Client, buildID string) error {
	byBuild := []types.Filter{{Name: aws.String("tag:" + goldentag.BuildID), Values: []string{buildID}}}
	var left []string
	instances, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: byBuild})
	if err != nil {
		return err
	}
	for _, r := range instances.Reservations {
		for _, in := range r.Instances {
			if in.State != nil && in.State.Name != types.InstanceStateNameTerminated {
				left = append(left, fmt.Sprintf("instance %s (%s)", aws.ToString(in.InstanceId), in.State.Name))
			}
		}
	}
	groups, err := client.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: byBuild})
	if err != nil {
		return err
	}
	for _, g := range groups.SecurityGroups {
		left = append(left, "security group "+aws.ToString(g.GroupId))
	}
	keys, err := client.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{Filters: byBuild})
	if err != nil {
		return err
	}
	for _, k := range keys.KeyPairs {
		left = append(left, "key pair "+aws.ToString(k.KeyName))
	}
	if len(left) > 0 {
		return fmt.Errorf("build %s left %s", buildID, strings.Join(left, ", "))
	}
	return nil
}
