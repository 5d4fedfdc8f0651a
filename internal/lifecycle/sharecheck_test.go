package lifecycle

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

func encryptedSource(region, image string, keys ...string) sourceImage {
	src := sourceImage{ref: ImageRef{Region: region, ImageID: image}}
	for i, key := range keys {
		snap := types.Snapshot{SnapshotId: aws.String(image + "-snap" + string(rune('a'+i))), Encrypted: aws.Bool(key != "-")}
		if key != "-" {
			snap.KmsKeyId = aws.String(key)
		}
		src.snapshots = append(src.snapshots, snap)
	}
	return src
}

// TestSharedKeys: which keys a sharing job must ask KMS about, and what it refuses without asking.
func TestSharedKeys(t *testing.T) {
	const (
		cmk     = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
		westCMK = "arn:aws:kms:us-west-2:123456789012:key/66666666-7777-8888-9999-000000000000"
	)
	share := Job{ShareWithAccounts: []string{"444455556666"}}
	withCopies := func(j Job, encrypt bool, keys map[string]string) Job {
		j.CopyTo, j.EncryptCopies, j.KMSKeyIDs = []string{"us-west-2", "eu-west-1"}, encrypt, keys
		return j
	}
	for _, tc := range []struct {
		name    string
		job     Job
		sources []sourceImage
		want    []string // region=key of every key to describe
		refusal []string // what the refusal names; nil when there is none
	}{
		{name: "not shared: nothing to check", job: withCopies(Job{}, true, nil),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", "alias/aws/ebs")}},
		{name: "unencrypted snapshots need no key", job: withCopies(share, false, nil),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", "-", "-")}},
		{name: "every encrypted snapshot of every source", job: share,
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", cmk, "-", cmk), encryptedSource("us-west-2", "ami-2", westCMK)},
			want:    []string{"us-east-1=" + cmk, "us-east-1=" + cmk, "us-west-2=" + westCMK}},
		{name: "copy keys in their regions", job: withCopies(share, true, map[string]string{"us-west-2": westCMK, "eu-west-1": "alias/golden"}),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", cmk)},
			want:    []string{"us-east-1=" + cmk, "us-west-2=" + westCMK, "eu-west-1=alias/golden"}},
		{name: "unencrypted copies of an unencrypted image", job: withCopies(Job{ShareWithOUARNs: []string{"ou"}}, false, nil),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", "-")}},
		{name: "snapshot under the aws/ebs alias ARN", job: share,
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", cmk, "arn:aws:kms:us-east-1:123456789012:alias/aws/ebs")},
			refusal: []string{"share_with:", "us-east-1:ami-1", "ami-1-snapb", "AWS-managed key"}},
		{name: "encrypted snapshot without a key id", job: Job{ShareWithOrgARNs: []string{"org"}},
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", "")},
			refusal: []string{"share_with_org_arns:", "ami-1-snapa", "EC2's default"}},
		{name: "copy key named by the aws/ebs alias", job: withCopies(share, true, map[string]string{"us-west-2": westCMK, "eu-west-1": "alias/aws/ebs"}),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", "-")},
			refusal: []string{"copy of us-east-1:ami-1 to eu-west-1", "kms_key_ids", "alias/aws/ebs"}},
		{name: "encrypted image copied where no key is named", job: withCopies(share, false, map[string]string{"us-west-2": westCMK}),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", cmk)},
			refusal: []string{"copy of us-east-1:ami-1 to eu-west-1", "default EBS key", "set kms_key_ids for eu-west-1"}},
		{name: "encrypt_copies where no key is named", job: withCopies(share, true, map[string]string{"eu-west-1": "alias/golden"}),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", "-")},
			refusal: []string{"copy of us-east-1:ami-1 to us-west-2", "default EBS key"}},
		{name: "only the copied source decides a copy's encryption", job: withCopies(share, false, nil),
			sources: []sourceImage{encryptedSource("us-east-1", "ami-1", "-"), encryptedSource("ap-south-1", "ami-2", cmk)},
			want:    []string{"ap-south-1=" + cmk}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uses, err := sharedKeys(tc.job, tc.sources)
			if tc.refusal != nil {
				if err == nil {
					t.Fatalf("no refusal; keys %+v", uses)
				}
				for _, w := range tc.refusal {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("refusal %q does not name %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range uses {
				got = append(got, u.region+"="+u.keyID)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("keys\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

type recordingUI struct {
	mu    sync.Mutex
	lines []string
}

func (u *recordingUI) Say(m string)     { u.mu.Lock(); u.lines = append(u.lines, m); u.mu.Unlock() }
func (u *recordingUI) Message(m string) { u.Say(m) }

// simExecutor is an executor whose clients reach the simulator.
func simExecutor(t *testing.T, sim *ec2sim.Server) *Executor {
	t.Helper()
	return &Executor{UI: &recordingUI{}, AccountID: sim.AccountID(), Clients: func(ctx context.Context, region string) (RegionClients, error) {
		access := &awsconf.AccessConfig{Region: region, MaxRetries: 10}
		if errs := access.Prepare(); len(errs) > 0 {
			t.Fatal(errs)
		}
		c := RegionClients{}
		var err error
		if c.EC2, err = access.EC2Client(ctx); err != nil {
			return c, err
		}
		if c.SSM, err = access.SSMClient(ctx); err != nil {
			return c, err
		}
		if c.AutoScaling, err = access.AutoScalingClient(ctx); err != nil {
			return c, err
		}
		c.KMS, err = access.KMSClient(ctx)
		return c, err
	}}
}

// mutatingActions are every call that changes something.
var mutatingActions = []string{
	"CreateTags", "CopyImage", "DeregisterImage", "DeleteSnapshot", "ModifyImageAttribute", "ModifySnapshotAttribute",
	"EnableImageDeprecation", "EnableImageDeregistrationProtection", "PutParameter",
}

// TestRunRefusesDefaultKeyByKeyID: an image whose snapshot EC2 reports under the aws/ebs key's
// ARN (seeded by key id, not alias) is refused before the first change, after one DescribeKey.
func TestRunRefusesDefaultKeyByKeyID(t *testing.T) {
	sim := startSim(t)
	const region = "us-east-1"
	ebsID, ebsARN := sim.EBSManagedKey(region)
	image := sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-default", Snapshots: []ec2sim.SnapshotSeed{
		{Encrypted: true, KmsKeyID: ebsID}, {Encrypted: true, KmsKeyID: ebsID},
	}})
	img, _ := sim.Image(region, image)
	job := Job{Source: ImageRef{Region: region, ImageID: image}, ShareWithAccounts: []string{"444455556666"},
		Tags: map[string]string{"Team": "platform"}, SSMParameter: "/golden/latest", DeprecateAfter: time.Hour}
	sim.ResetCalls()
	_, err := simExecutor(t, sim).Run(context.Background(), job)
	if err == nil {
		t.Fatal("Run shared an image encrypted with aws/ebs")
	}
	for _, want := range []string{"share_with:", region + ":" + image, ebsARN, "AWS-managed key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %q", err, want)
		}
	}
	if !strings.Contains(err.Error(), img.BlockDevices[0].SnapshotID) && !strings.Contains(err.Error(), img.BlockDevices[1].SnapshotID) {
		t.Errorf("refusal %q names neither snapshot", err)
	}
	for _, action := range mutatingActions {
		if n := sim.Calls(action); n != 0 {
			t.Errorf("refused run called %s %d times", action, n)
		}
	}
	if n := sim.Calls("DescribeKey"); n != 1 {
		t.Errorf("%d DescribeKey calls, want 1", n)
	}
}

// TestRunSharesCustomerKeyImage: an image and its copy under customer managed keys are shared,
// each key asked about once, and the copy carries its region's key.
func TestRunSharesCustomerKeyImage(t *testing.T) {
	sim := startSim(t)
	const region = "us-east-1"
	cmkID, cmkARN := sim.AddKMSKey(region, "golden")
	_, westARN := sim.AddKMSKey("us-west-2", "golden")
	image := sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-cmk", Snapshots: []ec2sim.SnapshotSeed{
		{Encrypted: true, KmsKeyID: cmkID}, {Encrypted: true, KmsKeyID: cmkARN},
	}})
	job := Job{Source: ImageRef{Region: region, ImageID: image}, ShareWithAccounts: []string{"444455556666"},
		CopyTo: []string{"us-west-2"}, KMSKeyIDs: map[string]string{"us-west-2": "alias/golden"}}
	exec := simExecutor(t, sim)
	exec.PollInterval = 10 * time.Millisecond
	sim.ResetCalls()
	res, err := exec.Run(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if n := sim.Calls("DescribeKey"); n != 2 {
		t.Errorf("%d DescribeKey calls, want 2 (one per region and key)", n)
	}
	if len(res.Images) != 2 {
		t.Fatalf("images %+v", res.Images)
	}
	for _, ri := range res.Images {
		img, _ := sim.Image(ri.Region, ri.ImageID)
		if len(img.LaunchPermissions) != 1 || img.LaunchPermissions[0].UserID != "444455556666" {
			t.Errorf("%s:%s launch permissions %+v", ri.Region, ri.ImageID, img.LaunchPermissions)
		}
		for _, bd := range img.BlockDevices {
			snap, _ := sim.Snapshot(ri.Region, bd.SnapshotID)
			want := map[string]string{region: cmkARN, "us-west-2": westARN}[ri.Region]
			if snap.KmsKeyID != want || len(snap.CreateVolumePermissions) != 1 {
				t.Errorf("%s snapshot %s: key %s (want %s), permissions %+v", ri.Region, snap.ID, snap.KmsKeyID, want, snap.CreateVolumePermissions)
			}
		}
	}
}
