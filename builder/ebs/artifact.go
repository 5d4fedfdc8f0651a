package ebs

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// Artifact is the AMI golden-ebs made.
type Artifact struct {
	Image   builtImage
	BuildID string
	// Generated is the build's generated data (SourceAMI, SourceAMIName, BuildRegion, ...).
	Generated map[string]interface{}

	access *awsconf.AccessConfig
}

var _ packersdk.Artifact = (*Artifact)(nil)

func newArtifact(c *Config, state multistep.StateBag, image builtImage, buildID string) *Artifact {
	generated, _ := state.Get("generated_data").(map[string]interface{})
	return &Artifact{Image: image, BuildID: buildID, Generated: generated, access: &c.AccessConfig}
}

// BuilderId is golden.ebs.
func (a *Artifact) BuilderId() string { return BuilderID }

// Files is empty: the image lives in AWS.
func (a *Artifact) Files() []string { return nil }

// Id is "region:ami-id".
func (a *Artifact) Id() string {
	return amiref.Format([]amiref.Ref{{Region: a.Image.Region, ImageID: a.Image.ImageID}})
}

func (a *Artifact) String() string {
	return fmt.Sprintf("AMIs were created:\n%s: %s\n", a.Image.Region, a.Image.ImageID)
}

// State keys of the artifact, besides the golden:* provenance tag keys and the HCP Packer and
// Atlas metadata. Values cross Packer's plugin RPC, so they are strings and string maps.
const (
	StateAMIs        = "amis"         // region -> image id, as amazon-ebs's artifact has it
	StateRegion      = "region"       // the build region
	StateSourceAMI   = "source_ami"   // the AMI the build started from
	StateBuildID     = "build_id"     // the build's id, also golden:build-id
	StateSnapshotIDs = "snapshot_ids" // the image's snapshots, comma separated
)

// State returns the artifact's data by name: see the State* keys, goldentag.BuildID and
// goldentag.SourceAMI, "generated_data", "atlas.artifact.metadata" and HCP Packer's registry
// image metadata.
func (a *Artifact) State(name string) interface{} {
	switch name {
	case "generated_data":
		return a.Generated
	case StateAMIs:
		return map[string]string{a.Image.Region: a.Image.ImageID}
	case StateRegion:
		return a.Image.Region
	case StateSourceAMI, goldentag.SourceAMI:
		return a.Image.SourceAMI
	case StateBuildID, goldentag.BuildID:
		return a.BuildID
	case StateSnapshotIDs:
		return strings.Join(a.Image.Snapshots, ",")
	case "atlas.artifact.metadata":
		return map[string]string{"region." + a.Image.Region: a.Image.ImageID}
	case registryimage.ArtifactStateURI:
		img, err := registryimage.FromArtifact(a,
			registryimage.WithProvider("aws"),
			registryimage.WithID(a.Image.ImageID),
			registryimage.WithSourceID(a.Image.SourceAMI),
			registryimage.WithRegion(a.Image.Region),
			registryimage.SetLabels(a.labels()))
		if err != nil {
			log.Printf("[WARN] golden-ebs: HCP Packer metadata: %v", err)
			return nil
		}
		return img
	}
	return nil
}

func (a *Artifact) labels() map[string]interface{} {
	labels := map[string]interface{}{"build_id": a.BuildID, "snapshot_ids": strings.Join(a.Image.Snapshots, ",")}
	for k, v := range a.Image.Tags {
		labels[k] = v
	}
	return labels
}

// destroyTimeout bounds Destroy, which has no context of its own.
const destroyTimeout = 15 * time.Minute

// destroyAPI is what Destroy calls.
type destroyAPI interface {
	ec2.DescribeImagesAPIClient
	DescribeImageAttribute(ctx context.Context, in *ec2.DescribeImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
	DescribeImageReferences(ctx context.Context, in *ec2.DescribeImageReferencesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageReferencesOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, optFns ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
}

// Destroy deregisters the AMI and deletes its snapshots, which Packer asks for when a
// post-processor discards the builder's artifact (or fails). It refuses, and says why, when
// anything already points at the image: it is shared with other accounts, an SSM parameter
// names it, or a copy of it exists in any region. Deleting it then would break what a
// post-processor such as golden-lifecycle has already published.
func (a *Artifact) Destroy() error {
	if a.access == nil {
		return errors.New("golden-ebs artifact: no AWS access to destroy it with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), destroyTimeout)
	defer cancel()
	client, err := a.access.ForRegion(a.Image.Region).EC2Client(ctx)
	if err != nil {
		return err
	}
	users, err := a.usersOf(ctx, client)
	if err != nil {
		return fmt.Errorf("golden-ebs: not destroying %s: checking what uses it failed: %w", a.Id(), err)
	}
	if len(users) > 0 {
		return fmt.Errorf("golden-ebs: not destroying %s, because %s; deregister it yourself once nothing needs it", a.Id(), strings.Join(users, "; "))
	}
	log.Printf("[INFO] golden-ebs: deregistering %s", a.Id())
	if _, err := client.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(a.Image.ImageID)}); err != nil {
		return fmt.Errorf("deregistering %s: %w", a.Id(), err)
	}
	var errs []error
	for _, snap := range a.Image.Snapshots {
		if _, err := client.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err != nil {
			errs = append(errs, fmt.Errorf("deleting snapshot %s: %w", snap, err))
		}
	}
	return errors.Join(errs...)
}

// usersOf lists what points at the image: launch permissions, SSM parameters, and copies in
// every region the account can use.
func (a *Artifact) usersOf(ctx context.Context, client *ec2.Client) ([]string, error) {
	id := aws.String(a.Image.ImageID)
	var users []string
	perms, err := client.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: id, Attribute: types.ImageAttributeNameLaunchPermission})
	if err != nil {
		return nil, err
	}
	for _, p := range perms.LaunchPermissions {
		who := aws.ToString(p.UserId)
		switch {
		case p.Group != "":
			who = "group " + string(p.Group)
		case p.OrganizationArn != nil:
			who = aws.ToString(p.OrganizationArn)
		case p.OrganizationalUnitArn != nil:
			who = aws.ToString(p.OrganizationalUnitArn)
		}
		users = append(users, "it is shared with "+who)
	}
	refs, err := client.DescribeImageReferences(ctx, &ec2.DescribeImageReferencesInput{ImageIds: []string{a.Image.ImageID},
		ResourceTypes: []types.ResourceTypeRequest{{ResourceType: types.ImageReferenceResourceTypeSsmParameter}}})
	if err != nil {
		return nil, err
	}
	for _, r := range refs.ImageReferences {
		users = append(users, "SSM parameter "+aws.ToString(r.Arn)+" names it")
	}
	regions, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, err
	}
	for _, r := range regions.Regions {
		region := aws.ToString(r.RegionName)
		regional, err := a.access.ForRegion(region).EC2Client(ctx)
		if err != nil {
			return nil, err
		}
		copies, err := regional.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []types.Filter{
			{Name: aws.String("source-image-id"), Values: []string{a.Image.ImageID}},
			{Name: aws.String("source-image-region"), Values: []string{a.Image.Region}},
		}})
		if err != nil {
			return nil, fmt.Errorf("looking for copies in %s: %w", region, err)
		}
		for _, img := range copies.Images {
			users = append(users, fmt.Sprintf("copy %s:%s was made from it", region, aws.ToString(img.ImageId)))
		}
	}
	slices.Sort(users)
	return users, nil
}
