package ec2sim_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

func newKMS(s *ec2sim.Server, region string) *kms.Client {
	return kms.NewFromConfig(awsConfig(s, region))
}

func describeKey(t *testing.T, client *kms.Client, ref string) *kmstypes.KeyMetadata {
	t.Helper()
	out, err := client.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(ref)})
	if err != nil {
		t.Fatalf("DescribeKey %s: %v", ref, err)
	}
	return out.KeyMetadata
}

// TestDescribeKeyEveryForm: the aws/ebs key every region has and a customer key added by the
// test answer to their key id, key ARN, alias name and alias ARN alike.
func TestDescribeKeyEveryForm(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "eu-west-1"
	client := newKMS(s, region)
	ebsID, ebsARN := s.EBSManagedKey(region)
	cmkID, cmkARN := s.AddKMSKey(region, "golden")
	if want := "arn:aws:kms:" + region + ":" + ec2sim.DefaultAccountID + ":key/" + ebsID; ebsARN != want {
		t.Fatalf("aws/ebs ARN %s, want %s", ebsARN, want)
	}
	for _, tc := range []struct {
		id, arn, manager string
		refs             []string
	}{
		{ebsID, ebsARN, "AWS", []string{ebsID, ebsARN, "alias/aws/ebs", "arn:aws:kms:eu-west-1:123456789012:alias/aws/ebs"}},
		{cmkID, cmkARN, "CUSTOMER", []string{cmkID, cmkARN, "alias/golden", "arn:aws:kms:eu-west-1:123456789012:alias/golden"}},
	} {
		for _, ref := range tc.refs {
			md := describeKey(t, client, ref)
			if aws.ToString(md.KeyId) != tc.id || aws.ToString(md.Arn) != tc.arn || string(md.KeyManager) != tc.manager ||
				!md.Enabled || md.KeyState != kmstypes.KeyStateEnabled || md.KeyUsage != kmstypes.KeyUsageTypeEncryptDecrypt ||
				md.KeySpec != kmstypes.KeySpecSymmetricDefault || aws.ToString(md.AWSAccountId) != ec2sim.DefaultAccountID ||
				md.CreationDate == nil || time.Since(*md.CreationDate) > time.Minute {
				t.Errorf("DescribeKey %s: %+v", ref, md)
			}
		}
	}
	if len(ebsID) != 36 || strings.Count(ebsID, "-") != 4 || len(cmkID) != 36 || cmkID == ebsID {
		t.Errorf("key ids %q and %q are not distinct UUIDs", ebsID, cmkID)
	}
	// Each region has its own aws/ebs key, the same on every run.
	westID, _ := s.EBSManagedKey("us-west-2")
	again, _ := ec2sim.New(ec2sim.Options{}).EBSManagedKey(region)
	if westID == ebsID || again != ebsID {
		t.Errorf("aws/ebs key ids: %s in eu-west-1, %s in us-west-2, %s in eu-west-1 of a new server", ebsID, westID, again)
	}
}

func TestDescribeKeyNotFound(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	_, westCMK := s.AddKMSKey("us-west-2", "golden")
	client := newKMS(s, "us-east-1")
	for _, ref := range []string{
		"0a1b2c3d-1111-2222-3333-444455556666",
		"arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666",
		"alias/golden", // it exists, but in us-west-2
		westCMK,        // likewise: KMS keys are regional
		"arn:aws:kms:us-east-1:999988887777:alias/aws/ebs",
		"arn:aws:kms:us-east-1:123456789012:alias/missing",
	} {
		_, err := client.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(ref)})
		var nf *kmstypes.NotFoundException
		if !errors.As(err, &nf) || errorCode(err) != "NotFoundException" || nf.ErrorMessage() == "" {
			t.Errorf("DescribeKey %s: %v, want NotFoundException with a message", ref, err)
		}
	}
}

func TestListAliases(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	ebsID, _ := s.EBSManagedKey(region)
	var want []string
	for _, name := range []string{"golden-a", "alias/golden-b", "golden-c"} {
		id, _ := s.AddKMSKey(region, name)
		want = append(want, "alias/"+strings.TrimPrefix(name, "alias/")+"="+id)
	}
	s.AddKMSKey(region, "") // a key without an alias is not listed
	client := newKMS(s, region)
	var got []string
	pages := kms.NewListAliasesPaginator(client, &kms.ListAliasesInput{Limit: aws.Int32(2)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx(t))
		must(t, err)
		for _, a := range page.Aliases {
			if aws.ToString(a.AliasArn) != "arn:aws:kms:us-east-1:123456789012:"+aws.ToString(a.AliasName) {
				t.Errorf("alias ARN %s of %s", aws.ToString(a.AliasArn), aws.ToString(a.AliasName))
			}
			got = append(got, aws.ToString(a.AliasName)+"="+aws.ToString(a.TargetKeyId))
		}
	}
	want = append([]string{"alias/aws/ebs=" + ebsID}, want...)
	if !slices.Equal(got, want) {
		t.Fatalf("aliases\n got %v\nwant %v", got, want)
	}
	out, err := client.ListAliases(ctx(t), &kms.ListAliasesInput{KeyId: aws.String(ebsID)})
	must(t, err)
	if len(out.Aliases) != 1 || aws.ToString(out.Aliases[0].AliasName) != "alias/aws/ebs" || out.Truncated {
		t.Errorf("aliases of the aws/ebs key: %+v", out)
	}
	_, err = client.ListAliases(ctx(t), &kms.ListAliasesInput{Marker: aws.String("bogus")})
	wantCode(t, err, "InvalidMarkerException")
	_, err = client.ListAliases(ctx(t), &kms.ListAliasesInput{KeyId: aws.String("0a1b2c3d-1111-2222-3333-444455556666")})
	wantCode(t, err, "NotFoundException")
}

// TestEncryptedSnapshotsRecordKeyARN: EC2 records the key of an encrypted snapshot by its key
// ARN, the region's aws/ebs key when no key was named, whether the snapshot was seeded, imaged
// from an instance or copied; and AWS refuses to share a snapshot under the aws/ebs key.
func TestEncryptedSnapshotsRecordKeyARN(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{Delays: fastDelays})
	c := ctx(t)
	_, eastEBS := s.EBSManagedKey("us-east-1")
	_, westEBS := s.EBSManagedKey("us-west-2")
	_, eastCMK := s.AddKMSKey("us-east-1", "golden")
	_, westCMK := s.AddKMSKey("us-west-2", "golden-west")
	east, west := newEC2(s, "us-east-1"), newEC2(s, "us-west-2")
	keyOf := func(client *ec2.Client, image string) []string {
		t.Helper()
		must(t, ec2.NewImageAvailableWaiter(client, fastWaiter[ec2.ImageAvailableWaiterOptions]).Wait(c,
			&ec2.DescribeImagesInput{ImageIds: []string{image}}, 10*time.Second))
		img, err := client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{image}})
		must(t, err)
		var ids, keys []string
		for _, bd := range img.Images[0].BlockDeviceMappings {
			ids = append(ids, aws.ToString(bd.Ebs.SnapshotId))
			keys = append(keys, aws.ToString(bd.Ebs.KmsKeyId))
		}
		snaps, err := client.DescribeSnapshots(c, &ec2.DescribeSnapshotsInput{SnapshotIds: ids})
		must(t, err)
		for i, sn := range snaps.Snapshots {
			if !aws.ToBool(sn.Encrypted) || aws.ToString(sn.KmsKeyId) != keys[i] {
				t.Errorf("snapshot %s: encrypted %v key %s, image says %s", aws.ToString(sn.SnapshotId), aws.ToBool(sn.Encrypted), aws.ToString(sn.KmsKeyId), keys[i])
			}
		}
		return keys
	}

	seeded := s.AddImage("us-east-1", ec2sim.ImageSeed{Name: "seeded", Snapshots: []ec2sim.SnapshotSeed{
		{Encrypted: true}, {Encrypted: true, KmsKeyID: "alias/golden"}, {Encrypted: true, KmsKeyID: "arn:aws:kms:us-east-1:123456789012:alias/aws/ebs"},
	}})
	if got, want := keyOf(east, seeded), []string{eastEBS, eastCMK, eastEBS}; !slices.Equal(got, want) {
		t.Errorf("seeded image keys %v, want %v", got, want)
	}

	base := s.AddImage("us-east-1", ec2sim.ImageSeed{Name: "base"})
	run, err := east.RunInstances(c, &ec2.RunInstancesInput{ImageId: aws.String(base), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{Encrypted: aws.Bool(true)}},
			{DeviceName: aws.String("/dev/sdb"), Ebs: &types.EbsBlockDevice{Encrypted: aws.Bool(true), KmsKeyId: aws.String("alias/golden")}},
		}})
	must(t, err)
	instance := aws.ToString(run.Instances[0].InstanceId)
	must(t, ec2.NewInstanceRunningWaiter(east, fastWaiter[ec2.InstanceRunningWaiterOptions]).Wait(c,
		&ec2.DescribeInstancesInput{InstanceIds: []string{instance}}, 10*time.Second))
	built, err := east.CreateImage(c, &ec2.CreateImageInput{InstanceId: aws.String(instance), Name: aws.String("built")})
	must(t, err)
	if got, want := keyOf(east, aws.ToString(built.ImageId)), []string{eastEBS, eastCMK}; !slices.Equal(got, want) {
		t.Errorf("CreateImage keys %v, want %v", got, want)
	}

	// Copies never keep the source's key: KMS keys are regional.
	for _, tc := range []struct {
		name string
		in   ec2.CopyImageInput
		want string
	}{
		{"inherited", ec2.CopyImageInput{}, westEBS},
		{"encrypted", ec2.CopyImageInput{Encrypted: aws.Bool(true)}, westEBS},
		{"by-alias", ec2.CopyImageInput{Encrypted: aws.Bool(true), KmsKeyId: aws.String("alias/golden-west")}, westCMK},
	} {
		in := tc.in
		in.Name, in.SourceImageId, in.SourceRegion = aws.String("copy-"+tc.name), built.ImageId, aws.String("us-east-1")
		out, err := west.CopyImage(c, &in)
		must(t, err)
		if got := keyOf(west, aws.ToString(out.ImageId)); !slices.Equal(got, []string{tc.want, tc.want}) {
			t.Errorf("copy %s keys %v, want %s", tc.name, got, tc.want)
		}
	}

	// The snapshots report keys by ARN; KMS says which one is AWS's.
	md := describeKey(t, newKMS(s, "us-east-1"), eastEBS)
	if md.KeyManager != kmstypes.KeyManagerTypeAws {
		t.Errorf("the key of a default-encrypted snapshot is managed by %s", md.KeyManager)
	}
	img, _ := s.Image("us-east-1", seeded)
	for i, wantCode := range []string{"OperationNotPermitted", "", "OperationNotPermitted"} {
		_, err := east.ModifySnapshotAttribute(c, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(img.BlockDevices[i].SnapshotID),
			Attribute: types.SnapshotAttributeNameCreateVolumePermission, OperationType: types.OperationTypeAdd, UserIds: []string{"444455556666"}})
		if got := errorCode(err); got != wantCode || (wantCode == "" && err != nil) {
			t.Errorf("sharing snapshot %d (%s): %v, want %q", i, img.BlockDevices[i].KmsKeyID, err, wantCode)
		}
	}
}

func TestKMSFaultsAndCounters(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	client := newKMS(s, "us-east-1")
	s.FailNth("DescribeKey", 1, "ThrottlingException", "Rate exceeded")
	describeKey(t, client, "alias/aws/ebs")
	if n := s.Calls("DescribeKey"); n != 2 {
		t.Errorf("%d DescribeKey calls, want 2 (one throttled, one retried)", n)
	}
	s.FailNth("DescribeKey", 1, "KMSInternalException", "boom")
	noRetry := kms.NewFromConfig(awsConfig(s, "us-east-1"), func(o *kms.Options) { o.RetryMaxAttempts = 1 })
	_, err := noRetry.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")})
	var internal *kmstypes.KMSInternalException
	if !errors.As(err, &internal) {
		t.Errorf("DescribeKey under an injected fault: %v, want KMSInternalException", err)
	}
	_, err = client.GetKeyRotationStatus(ctx(t), &kms.GetKeyRotationStatusInput{KeyId: aws.String("alias/aws/ebs")})
	wantCode(t, err, "UnknownOperationException")
}

func TestSeedDocumentKMSKeys(t *testing.T) {
	doc := `{"regions": {"us-east-1": {
	    "kmsKeys": [{"alias": "alias/golden"}],
	    "images": [{"id": "ami-0aaaaaaaaaaaaaaa1", "name": "golden-1", "snapshots": [{"encrypted": true, "kmsKeyId": "alias/golden"}]}]
	  }}}`
	sf, err := ec2sim.DecodeSeed(strings.NewReader(doc))
	must(t, err)
	s := ec2sim.StartTest(t, ec2sim.Options{})
	must(t, s.Seed(sf))
	md := describeKey(t, newKMS(s, "us-east-1"), "alias/golden")
	img, _ := s.Image("us-east-1", "ami-0aaaaaaaaaaaaaaa1")
	if md.KeyManager != kmstypes.KeyManagerTypeCustomer || img.BlockDevices[0].KmsKeyID != aws.ToString(md.Arn) {
		t.Fatalf("seeded key %+v, image block devices %+v", md, img.BlockDevices)
	}
	for _, bad := range []string{
		`{"regions": {"us-east-1": {"kmsKeys": [{}]}}}`,
		`{"regions": {"us-east-1": {"kmsKeys": [{"alias": "aws/ebs"}]}}}`,
		`{"regions": {"us-east-1": {"kmsKeys": [{"alias": "twice"}, {"alias": "alias/twice"}]}}}`,
		`{"regions": {"us-east-1": {"kmsKeys": [{"alias": "golden"}]}}}`, // exists already
	} {
		sf, err := ec2sim.DecodeSeed(strings.NewReader(bad))
		must(t, err)
		if err := s.Seed(sf); err == nil {
			t.Errorf("seed %s accepted", bad)
		}
	}
}
