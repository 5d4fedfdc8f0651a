package ebs

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

const (
	testImageID  = "ami-0a1b2c3d4e5f60718"
	testSourceID = "ami-0fedcba9876543210"
	testBuildID  = "6d1f0b8e-0000-4000-8000-000000000001"
)

func testArtifact(access *awsconf.AccessConfig) *Artifact {
	return &Artifact{
		Image: builtImage{Region: "eu-west-1", ImageID: testImageID, Name: "golden-test", SourceAMI: testSourceID,
			Snapshots: []string{"snap-0a1b2c3d4e5f60718", "snap-0b1b2c3d4e5f60718"},
			Tags:      map[string]string{"Team": "platform", goldentag.BuildID: testBuildID}},
		BuildID: testBuildID,
		Generated: map[string]interface{}{"SourceAMI": testSourceID, "SourceAMIName": "debian-12-amd64-20240211-1654",
			"BuildRegion": "eu-west-1", "SourceAMIOwner": "136693071363"},
		access: access,
	}
}

func TestArtifactIdentity(t *testing.T) {
	a := testArtifact(nil)
	if a.BuilderId() != "golden.ebs" {
		t.Errorf("BuilderId = %q, want golden.ebs", a.BuilderId())
	}
	if a.Id() != "eu-west-1:"+testImageID {
		t.Errorf("Id = %q, want region:ami-id", a.Id())
	}
	refs, err := amiref.Parse(a.Id())
	if err != nil || len(refs) != 1 || refs[0].ImageID != testImageID {
		t.Errorf("Id %q does not read back as one region:ami pair: %v %v", a.Id(), refs, err)
	}
	if a.Files() != nil {
		t.Errorf("Files = %v, want none", a.Files())
	}
	if !strings.Contains(a.String(), "eu-west-1: "+testImageID) {
		t.Errorf("String = %q", a.String())
	}
}

func TestArtifactState(t *testing.T) {
	a := testArtifact(nil)
	for key, want := range map[string]interface{}{
		StateSourceAMI:      testSourceID,
		goldentag.SourceAMI: testSourceID,
		StateBuildID:        testBuildID,
		goldentag.BuildID:   testBuildID,
		StateRegion:         "eu-west-1",
		StateSnapshotIDs:    "snap-0a1b2c3d4e5f60718,snap-0b1b2c3d4e5f60718",
	} {
		if got := a.State(key); got != want {
			t.Errorf("State(%q) = %#v, want %#v", key, got, want)
		}
	}
	if amis, ok := a.State(StateAMIs).(map[string]string); !ok || amis["eu-west-1"] != testImageID || len(amis) != 1 {
		t.Errorf("State(amis) = %#v", a.State(StateAMIs))
	}
	if meta, ok := a.State("atlas.artifact.metadata").(map[string]string); !ok || meta["region.eu-west-1"] != testImageID {
		t.Errorf("State(atlas.artifact.metadata) = %#v", a.State("atlas.artifact.metadata"))
	}
	if a.State("no such key") != nil {
		t.Errorf("an unknown key gives %#v, want nil", a.State("no such key"))
	}

	// generated_data carries amazon-ebs's names, so post-processors written for it read the same.
	generated, ok := a.State("generated_data").(map[string]interface{})
	if !ok {
		t.Fatalf("State(generated_data) = %#v", a.State("generated_data"))
	}
	for _, name := range []string{"SourceAMI", "SourceAMIName", "BuildRegion", "SourceAMIOwner"} {
		if generated[name] == nil || generated[name] != a.Generated[name] {
			t.Errorf("generated_data[%s] = %#v", name, generated[name])
		}
	}
	for _, name := range []string{"SourceAMIName", "BuildRegion", "SourceAMI", "SourceAMICreationDate", "SourceAMIOwner", "SourceAMIOwnerName"} {
		found := false
		for _, n := range generatedDataNames {
			found = found || n == name
		}
		if !found {
			t.Errorf("generated data lacks amazon-ebs's %s: %v", name, generatedDataNames)
		}
	}

	// HCP Packer's registry reads the image from this key.
	img, ok := a.State(registryimage.ArtifactStateURI).(*registryimage.Image)
	if !ok {
		t.Fatalf("State(%s) = %#v, want *registryimage.Image", registryimage.ArtifactStateURI, a.State(registryimage.ArtifactStateURI))
	}
	if img.ProviderName != "aws" || img.ImageID != testImageID || img.SourceImageID != testSourceID || img.ProviderRegion != "eu-west-1" {
		t.Errorf("registry image = %+v", img)
	}
	for k, want := range map[string]string{"build_id": testBuildID, "snapshot_ids": "snap-0a1b2c3d4e5f60718,snap-0b1b2c3d4e5f60718", "Team": "platform"} {
		if img.Labels[k] != want {
			t.Errorf("registry label %s = %q, want %q (labels %v)", k, img.Labels[k], want, img.Labels)
		}
	}
}

// destroyFixture is a built image in the simulator and an artifact naming it.
func destroyFixture(t *testing.T) (*ec2sim.Server, *Artifact, ec2sim.Image) {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	t.Setenv("AWS_ENDPOINT_URL", sim.URL())
	id := sim.AddImage("eu-west-1", ec2sim.ImageSeed{Name: "golden-test", Snapshots: []ec2sim.SnapshotSeed{{Encrypted: true}, {Encrypted: true, SizeGiB: 20}}})
	img, _ := sim.Image("eu-west-1", id)
	access := &awsconf.AccessConfig{Region: "eu-west-1", AccessKey: "AKIDSIMULATOR", SecretKey: "simulator"}
	if errs := access.Prepare(); len(errs) > 0 {
		t.Fatal(errs)
	}
	a := testArtifact(access)
	a.Image.ImageID = id
	a.Image.Snapshots = nil
	for _, bd := range img.BlockDevices {
		a.Image.Snapshots = append(a.Image.Snapshots, bd.SnapshotID)
	}
	return sim, a, img
}

func TestArtifactDestroyDeregistersAndDeletesSnapshots(t *testing.T) {
	sim, a, img := destroyFixture(t)
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, found := sim.Image("eu-west-1", img.ID); found {
		t.Errorf("image %s still registered", img.ID)
	}
	for _, bd := range img.BlockDevices {
		if _, found := sim.Snapshot("eu-west-1", bd.SnapshotID); found {
			t.Errorf("snapshot %s not deleted", bd.SnapshotID)
		}
	}
}

// TestArtifactDestroyRefusesAnImageInUse: once golden-lifecycle shared, copied or published the
// image, destroying it would break what points at it.
func TestArtifactDestroyRefusesAnImageInUse(t *testing.T) {
	tests := []struct {
		name string
		use  func(t *testing.T, sim *ec2sim.Server, a *Artifact, img ec2sim.Image)
		want string
	}{
		{"shared", func(t *testing.T, sim *ec2sim.Server, a *Artifact, img ec2sim.Image) {
			client, err := a.access.EC2Client(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.ModifyImageAttribute(context.Background(), &ec2.ModifyImageAttributeInput{ImageId: aws.String(img.ID),
				LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String("111122223333")}}}})
			if err != nil {
				t.Fatal(err)
			}
		}, "it is shared with 111122223333"},
		{"named by an SSM parameter", func(t *testing.T, sim *ec2sim.Server, a *Artifact, img ec2sim.Image) {
			sim.PutParameter("eu-west-1", "/golden/test/latest", img.ID, "aws:ec2:image")
		}, "SSM parameter arn:aws:ssm:eu-west-1:123456789012:parameter/golden/test/latest names it"},
		{"copied", func(t *testing.T, sim *ec2sim.Server, a *Artifact, img ec2sim.Image) {
			sim.AddImage("us-west-2", ec2sim.ImageSeed{Name: "golden-test", SourceImageID: img.ID, SourceRegion: "eu-west-1"})
		}, "copy us-west-2:ami-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, a, img := destroyFixture(t)
			tt.use(t, sim, a, img)
			err := a.Destroy()
			if err == nil {
				t.Fatal("Destroy deregistered an image in use")
			}
			for _, want := range []string{"not destroying eu-west-1:" + img.ID, tt.want, "deregister it yourself once nothing needs it"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if _, found := sim.Image("eu-west-1", img.ID); !found {
				t.Errorf("image %s is gone", img.ID)
			}
			for _, bd := range img.BlockDevices {
				if _, found := sim.Snapshot("eu-west-1", bd.SnapshotID); !found {
					t.Errorf("snapshot %s is gone", bd.SnapshotID)
				}
			}
		})
	}
}

func TestArtifactDestroyWithoutAccess(t *testing.T) {
	if err := testArtifact(nil).Destroy(); err == nil || !strings.Contains(err.Error(), "no AWS access") {
		t.Errorf("Destroy without access = %v", err)
	}
}
