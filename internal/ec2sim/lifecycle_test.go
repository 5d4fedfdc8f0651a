package ec2sim_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// TestCopyShareDeprecateProtect walks what a lifecycle step does with a fresh image.
func TestCopyShareDeprecateProtect(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{Delays: fastDelays})
	src := s.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-1", Description: "golden ubuntu",
		Tags: map[string]string{"golden:build": "b7"}, Snapshots: []ec2sim.SnapshotSeed{{SizeGiB: 12}, {SizeGiB: 50}}})
	west := newEC2(s, "us-west-2")
	c := ctx(t)

	copied, err := west.CopyImage(c, &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(src),
		Name: aws.String("golden-ubuntu-1"), Encrypted: aws.Bool(true), KmsKeyId: aws.String("arn:aws:kms:us-west-2:123456789012:key/abcd"),
		CopyImageTags: aws.Bool(true), TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("golden:copied-from"), Value: aws.String("us-east-1")}}},
			{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("golden:build"), Value: aws.String("b7")}}},
		}})
	must(t, err)
	copyID := aws.ToString(copied.ImageId)
	img, ok := s.Image("us-west-2", copyID)
	if !ok || img.State != "pending" || img.SourceImageID != src || img.SourceRegion != "us-east-1" {
		t.Fatalf("copy right after CopyImage: %+v", img)
	}
	must(t, ec2.NewImageAvailableWaiter(west, fastWaiter[ec2.ImageAvailableWaiterOptions]).Wait(c, &ec2.DescribeImagesInput{ImageIds: []string{copyID}}, 10*time.Second))
	img, _ = s.Image("us-west-2", copyID)
	if img.Tags["golden:build"] != "b7" || img.Tags["golden:copied-from"] != "us-east-1" || len(img.BlockDevices) != 2 ||
		!img.BlockDevices[1].Encrypted || img.BlockDevices[1].KmsKeyID != "arn:aws:kms:us-west-2:123456789012:key/abcd" || img.Description != "golden ubuntu" {
		t.Fatalf("copied image %+v", img)
	}
	if _, found := s.Image("us-east-1", copyID); found {
		t.Fatal("copy landed in the source region")
	}
	snap, _ := s.Snapshot("us-west-2", img.BlockDevices[0].SnapshotID)
	if snap.Tags["golden:build"] != "b7" || !snap.Encrypted || snap.SizeGiB != 12 {
		t.Fatalf("copied snapshot %+v", snap)
	}
	_, err = west.CopyImage(c, &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String(src), Name: aws.String("golden-ubuntu-1")})
	wantCode(t, err, "InvalidAMIName.Duplicate")
	_, err = west.CopyImage(c, &ec2.CopyImageInput{SourceRegion: aws.String("us-east-1"), SourceImageId: aws.String("ami-0123456789abcdef0"), Name: aws.String("x-copy")})
	wantCode(t, err, "InvalidAMIID.NotFound")

	// Sharing with accounts, organisations and everyone.
	_, err = west.ModifyImageAttribute(c, &ec2.ModifyImageAttributeInput{ImageId: aws.String(copyID), LaunchPermission: &types.LaunchPermissionModifications{
		Add: []types.LaunchPermission{{UserId: aws.String("111122223333")}, {OrganizationArn: aws.String("arn:aws:organizations::123456789012:organization/o-abcdefghij")},
			{OrganizationalUnitArn: aws.String("arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefghij")}}}})
	must(t, err)
	_, err = west.ModifyImageAttribute(c, &ec2.ModifyImageAttributeInput{ImageId: aws.String(copyID), Attribute: aws.String("launchPermission"),
		OperationType: types.OperationTypeAdd, UserGroups: []string{"all"}})
	must(t, err)
	attr, err := west.DescribeImageAttribute(c, &ec2.DescribeImageAttributeInput{ImageId: aws.String(copyID), Attribute: types.ImageAttributeNameLaunchPermission})
	must(t, err)
	if len(attr.LaunchPermissions) != 4 || attr.LaunchPermissions[0].Group != types.PermissionGroupAll {
		t.Fatalf("launch permissions %+v", attr.LaunchPermissions)
	}
	_, err = west.ModifyImageAttribute(c, &ec2.ModifyImageAttributeInput{ImageId: aws.String(copyID), LaunchPermission: &types.LaunchPermissionModifications{
		Remove: []types.LaunchPermission{{Group: types.PermissionGroupAll}, {UserId: aws.String("111122223333")}}}})
	must(t, err)
	img, _ = s.Image("us-west-2", copyID)
	if img.Public || len(img.LaunchPermissions) != 2 {
		t.Fatalf("after removal: public %v, %+v", img.Public, img.LaunchPermissions)
	}
	_, err = west.ModifyImageAttribute(c, &ec2.ModifyImageAttributeInput{ImageId: aws.String(copyID), LaunchPermission: &types.LaunchPermissionModifications{
		Add: []types.LaunchPermission{{UserId: aws.String("not-an-account")}}}})
	wantCode(t, err, "InvalidAMIAttributeItemValue")
	snapID := img.BlockDevices[0].SnapshotID
	_, err = west.ModifySnapshotAttribute(c, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(snapID), Attribute: types.SnapshotAttributeNameCreateVolumePermission,
		CreateVolumePermission: &types.CreateVolumePermissionModifications{Add: []types.CreateVolumePermission{{UserId: aws.String("111122223333")}}}})
	must(t, err)
	sattr, err := west.DescribeSnapshotAttribute(c, &ec2.DescribeSnapshotAttributeInput{SnapshotId: aws.String(snapID), Attribute: types.SnapshotAttributeNameCreateVolumePermission})
	must(t, err)
	if len(sattr.CreateVolumePermissions) != 1 || aws.ToString(sattr.CreateVolumePermissions[0].UserId) != "111122223333" {
		t.Fatalf("snapshot permissions %+v", sattr.CreateVolumePermissions)
	}

	// Deprecation, rounded to the minute.
	at := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Minute).Add(20 * time.Second)
	_, err = west.EnableImageDeprecation(c, &ec2.EnableImageDeprecationInput{ImageId: aws.String(copyID), DeprecateAt: aws.Time(at)})
	must(t, err)
	out, err := west.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{copyID}})
	must(t, err)
	if got := aws.ToString(out.Images[0].DeprecationTime); got != at.UTC().Truncate(time.Minute).Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("deprecation time %s for %s", got, at)
	}

	// Deregistration protection holds, and with a cooldown it outlasts being disabled.
	_, err = west.EnableImageDeregistrationProtection(c, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(copyID), WithCooldown: aws.Bool(true)})
	must(t, err)
	out, err = west.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{copyID}})
	must(t, err)
	if !strings.HasPrefix(aws.ToString(out.Images[0].DeregistrationProtection), "enabled") {
		t.Fatalf("protection %q", aws.ToString(out.Images[0].DeregistrationProtection))
	}
	_, err = west.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(copyID)})
	wantCode(t, err, "OperationNotPermitted")
	_, err = west.DisableImageDeregistrationProtection(c, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(copyID)})
	must(t, err)
	_, err = west.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(copyID)})
	wantCode(t, err, "OperationNotPermitted")

	// Without a cooldown, disabling lifts protection at once; snapshots outlive the image and
	// cannot be deleted while an image uses them.
	east := newEC2(s, "us-east-1")
	_, err = east.EnableImageDeregistrationProtection(c, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(src)})
	must(t, err)
	_, err = east.DisableImageDeregistrationProtection(c, &ec2.DisableImageDeregistrationProtectionInput{ImageId: aws.String(src)})
	must(t, err)
	srcImg, _ := s.Image("us-east-1", src)
	_, err = east.DeleteSnapshot(c, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(srcImg.BlockDevices[0].SnapshotID)})
	wantCode(t, err, "InvalidSnapshot.InUse")
	_, err = east.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(src)})
	must(t, err)
	_, err = east.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{src}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	for _, bd := range srcImg.BlockDevices {
		_, err = east.DeleteSnapshot(c, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(bd.SnapshotID)})
		must(t, err)
	}
	_, err = east.DeleteSnapshot(c, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(srcImg.BlockDevices[0].SnapshotID)})
	wantCode(t, err, "InvalidSnapshot.NotFound")
}

func TestTags(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "eu-west-2"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "tagged", Tags: map[string]string{"keep": "yes"}})
	img, _ := s.Image(region, ami)
	client := newEC2(s, region)
	c := ctx(t)
	_, err := client.CreateTags(c, &ec2.CreateTagsInput{Resources: []string{ami, img.BlockDevices[0].SnapshotID},
		Tags: []types.Tag{{Key: aws.String("golden:validation"), Value: aws.String("passed")}, {Key: aws.String("drop"), Value: aws.String("me")}}})
	must(t, err)
	_, err = client.CreateTags(c, &ec2.CreateTagsInput{Resources: []string{"ami-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = client.CreateTags(c, &ec2.CreateTagsInput{Resources: []string{ami}, Tags: []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("v")}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = client.DeleteTags(c, &ec2.DeleteTagsInput{Resources: []string{ami}, Tags: []types.Tag{{Key: aws.String("drop")}, {Key: aws.String("keep"), Value: aws.String("no")}}})
	must(t, err)
	img, _ = s.Image(region, ami)
	if img.Tags["keep"] != "yes" || img.Tags["golden:validation"] != "passed" || len(img.Tags) != 2 {
		t.Fatalf("tags after delete %v", img.Tags)
	}
	out, err := client.DescribeTags(c, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("key", "golden:*")}})
	must(t, err)
	var got []string
	for _, d := range out.Tags {
		got = append(got, string(d.ResourceType)+":"+aws.ToString(d.ResourceId))
	}
	if !slices.Equal(got, []string{"image:" + ami, "snapshot:" + img.BlockDevices[0].SnapshotID}) {
		t.Fatalf("DescribeTags %v", got)
	}
}

func TestLaunchTemplates(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	a := s.AddImage(region, ec2sim.ImageSeed{Name: "a"})
	b := s.AddImage(region, ec2sim.ImageSeed{Name: "b"})
	s.PutParameter(region, "/golden/ubuntu/latest", b, "aws:ec2:image")
	seeded := s.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: "web", Versions: []string{a, b, "resolve:ssm:/golden/ubuntu/latest"}, DefaultVersion: 2})
	client := newEC2(s, region)
	c := ctx(t)

	created, err := client.CreateLaunchTemplate(c, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("api"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(a), InstanceType: types.InstanceTypeT3Small},
		TagSpecifications:  []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: []types.Tag{{Key: aws.String("Team"), Value: aws.String("api")}}}}})
	must(t, err)
	apiID := aws.ToString(created.LaunchTemplate.LaunchTemplateId)
	if !strings.HasPrefix(apiID, "lt-") || created.Warning != nil {
		t.Fatalf("created %s warning %+v", apiID, created.Warning)
	}
	v2, err := client.CreateLaunchTemplateVersion(c, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(apiID), SourceVersion: aws.String("1"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String("ami-0123456789abcdef0")}})
	must(t, err)
	if aws.ToInt64(v2.LaunchTemplateVersion.VersionNumber) != 2 || v2.LaunchTemplateVersion.LaunchTemplateData.InstanceType != types.InstanceTypeT3Small ||
		v2.Warning == nil || aws.ToString(v2.Warning.Errors[0].Code) != "InvalidAMIID.NotFound" {
		t.Fatalf("version 2 %+v warning %+v", v2.LaunchTemplateVersion, v2.Warning)
	}
	_, err = client.ModifyLaunchTemplate(c, &ec2.ModifyLaunchTemplateInput{LaunchTemplateName: aws.String("api"), DefaultVersion: aws.String("2")})
	must(t, err)
	_, err = client.CreateLaunchTemplate(c, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("api"), LaunchTemplateData: &types.RequestLaunchTemplateData{}})
	wantCode(t, err, "InvalidLaunchTemplateName.AlreadyExistsException")

	versions := func(in *ec2.DescribeLaunchTemplateVersionsInput) []string {
		t.Helper()
		var out []string
		p := ec2.NewDescribeLaunchTemplateVersionsPaginator(client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(c)
			must(t, err)
			for _, v := range page.LaunchTemplateVersions {
				out = append(out, aws.ToString(v.LaunchTemplateName)+"/"+itoa(aws.ToInt64(v.VersionNumber))+"="+aws.ToString(v.LaunchTemplateData.ImageId))
			}
		}
		return out
	}
	// Every version of one template, newest first, across pages.
	if got := versions(&ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(seeded), MaxResults: aws.Int32(1)}); !slices.Equal(got,
		[]string{"web/3=resolve:ssm:/golden/ubuntu/latest", "web/2=" + b, "web/1=" + a}) {
		t.Fatalf("all versions: %v", got)
	}
	// $Latest and $Default of every template in one batched listing; aliases resolved on request.
	if got := versions(&ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}, ResolveAlias: aws.Bool(true)}); !slices.Equal(got,
		[]string{"web/3=" + b, "web/2=" + b, "api/2=ami-0123456789abcdef0"}) {
		t.Fatalf("latest and default: %v", got)
	}
	if got := versions(&ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Default"}, Filters: []types.Filter{filter("image-id", b)}}); !slices.Equal(got, []string{"web/2=" + b}) {
		t.Fatalf("filtered: %v", got)
	}
	_, err = client.DescribeLaunchTemplateVersions(c, &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"1"}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = client.DescribeLaunchTemplateVersions(c, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(seeded), Versions: []string{"9"}})
	wantCode(t, err, "InvalidLaunchTemplateId.VersionNotFound")
	_, err = client.DescribeLaunchTemplateVersions(c, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("nope")})
	wantCode(t, err, "InvalidLaunchTemplateName.NotFoundException")

	tpls, err := client.DescribeLaunchTemplates(c, &ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{filter("tag:Team", "api")}})
	must(t, err)
	if len(tpls.LaunchTemplates) != 1 || aws.ToInt64(tpls.LaunchTemplates[0].DefaultVersionNumber) != 2 || aws.ToInt64(tpls.LaunchTemplates[0].LatestVersionNumber) != 2 {
		t.Fatalf("templates %+v", tpls.LaunchTemplates)
	}
	// RunInstances from the template's default version.
	run, err := client.RunInstances(c, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")}})
	must(t, err)
	if aws.ToString(run.Instances[0].ImageId) != b {
		t.Fatalf("instance from template runs %s", aws.ToString(run.Instances[0].ImageId))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAutoScaling(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "eu-north-1"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "asg"})
	lt := s.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: "fleet", Versions: []string{ami}})
	s.AddLaunchConfiguration(region, "legacy", ami)
	s.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: "a-legacy", LaunchConfigurationName: "legacy"})
	s.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: "b-template", LaunchTemplateID: lt, LaunchTemplateVersion: "$Latest", Tags: map[string]string{"env": "prod"}})
	s.AddAutoScalingGroup(region, ec2sim.ASGSeed{Name: "c-mixed", LaunchTemplateName: "fleet", MixedInstancesPolicy: true})
	client := newAutoScaling(s, region)
	c := ctx(t)
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(client, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(2)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(c)
		must(t, err)
		pages++
		for _, g := range out.AutoScalingGroups {
			names = append(names, aws.ToString(g.AutoScalingGroupName))
			switch aws.ToString(g.AutoScalingGroupName) {
			case "a-legacy":
				if aws.ToString(g.LaunchConfigurationName) != "legacy" || g.LaunchTemplate != nil {
					t.Fatalf("legacy group %+v", g)
				}
			case "b-template":
				if aws.ToString(g.LaunchTemplate.LaunchTemplateId) != lt || aws.ToString(g.LaunchTemplate.LaunchTemplateName) != "fleet" ||
					aws.ToString(g.LaunchTemplate.Version) != "$Latest" || len(g.Tags) != 1 {
					t.Fatalf("template group %+v", g.LaunchTemplate)
				}
			case "c-mixed":
				spec := g.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification
				if g.LaunchTemplate != nil || aws.ToString(spec.LaunchTemplateId) != lt || aws.ToString(spec.Version) != "$Default" {
					t.Fatalf("mixed group %+v", spec)
				}
			}
		}
	}
	if !slices.Equal(names, []string{"a-legacy", "b-template", "c-mixed"}) || pages != 2 {
		t.Fatalf("groups %v in %d pages", names, pages)
	}
	lcs, err := client.DescribeLaunchConfigurations(c, &autoscaling.DescribeLaunchConfigurationsInput{})
	must(t, err)
	if len(lcs.LaunchConfigurations) != 1 || aws.ToString(lcs.LaunchConfigurations[0].ImageId) != ami {
		t.Fatalf("launch configurations %+v", lcs.LaunchConfigurations)
	}
	_, err = client.DescribeAutoScalingGroups(c, &autoscaling.DescribeAutoScalingGroupsInput{NextToken: aws.String("garbage")})
	wantCode(t, err, "InvalidNextToken")
}

func TestParameters(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "ap-northeast-1"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "golden"})
	client := newSSM(s, region)
	c := ctx(t)

	put, err := client.PutParameter(c, &ssm.PutParameterInput{Name: aws.String("/golden/ubuntu/latest"), Value: aws.String(ami), Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image")})
	must(t, err)
	if put.Version != 1 {
		t.Fatalf("version %d", put.Version)
	}
	_, err = client.PutParameter(c, &ssm.PutParameterInput{Name: aws.String("/golden/ubuntu/latest"), Value: aws.String(ami), Type: ssmtypes.ParameterTypeString})
	wantCode(t, err, "ParameterAlreadyExists")
	// An image id that does not exist is accepted, then dropped by the asynchronous validation.
	put, err = client.PutParameter(c, &ssm.PutParameterInput{Name: aws.String("/golden/ubuntu/latest"), Value: aws.String("ami-0123456789abcdef0"),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)})
	must(t, err)
	if v, _ := s.Parameter(region, "/golden/ubuntu/latest"); v != ami {
		t.Fatalf("invalid image id replaced the parameter: %s", v)
	}
	other := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-2"})
	put, err = client.PutParameter(c, &ssm.PutParameterInput{Name: aws.String("/golden/ubuntu/latest"), Value: aws.String(other),
		Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(true)})
	must(t, err)
	got, err := client.GetParameter(c, ssmGet("/golden/ubuntu/latest"))
	must(t, err)
	if aws.ToString(got.Parameter.Value) != other || got.Parameter.Version != 2 || aws.ToString(got.Parameter.DataType) != "aws:ec2:image" ||
		got.Parameter.LastModifiedDate == nil || !strings.HasSuffix(aws.ToString(got.Parameter.ARN), ":parameter/golden/ubuntu/latest") {
		t.Fatalf("parameter %+v", got.Parameter)
	}
	first, err := client.GetParameter(c, ssmGet("/golden/ubuntu/latest:1"))
	must(t, err)
	if aws.ToString(first.Parameter.Value) != ami {
		t.Fatalf("version 1 is %s", aws.ToString(first.Parameter.Value))
	}
	_, err = client.PutParameter(c, &ssm.PutParameterInput{Name: aws.String("/aws/service/mine"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeString})
	wantCode(t, err, "ValidationException")

	for i := range 13 {
		s.PutParameter(region, "/golden/fleet/"+string(rune('a'+i)), "v", "")
	}
	s.PutParameter(region, "/golden/fleet/deep/er", "v", "")
	var names []string
	p := ssm.NewGetParametersByPathPaginator(client, &ssm.GetParametersByPathInput{Path: aws.String("/golden/fleet"), MaxResults: aws.Int32(4)})
	for p.HasMorePages() {
		out, err := p.NextPage(c)
		must(t, err)
		for _, prm := range out.Parameters {
			names = append(names, aws.ToString(prm.Name))
		}
	}
	if len(names) != 13 || slices.Contains(names, "/golden/fleet/deep/er") {
		t.Fatalf("non-recursive listing %v", names)
	}
	rec, err := client.GetParametersByPath(c, &ssm.GetParametersByPathInput{Path: aws.String("/golden/fleet/deep"), Recursive: aws.Bool(true)})
	must(t, err)
	if len(rec.Parameters) != 1 {
		t.Fatalf("recursive listing %+v", rec.Parameters)
	}
	many, err := client.GetParameters(c, &ssm.GetParametersInput{Names: []string{"/golden/fleet/a", "/golden/missing"}})
	must(t, err)
	if len(many.Parameters) != 1 || !slices.Equal(many.InvalidParameters, []string{"/golden/missing"}) {
		t.Fatalf("GetParameters %+v %v", many.Parameters, many.InvalidParameters)
	}
	_, err = client.DeleteParameter(c, &ssm.DeleteParameterInput{Name: aws.String("/golden/fleet/a")})
	must(t, err)
	_, err = client.DeleteParameter(c, &ssm.DeleteParameterInput{Name: aws.String("/golden/fleet/a")})
	wantCode(t, err, "ParameterNotFound")
	desc, err := client.DescribeParameters(c, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/golden/ubuntu"}}}})
	must(t, err)
	if len(desc.Parameters) != 1 || desc.Parameters[0].Version != 2 {
		t.Fatalf("DescribeParameters %+v", desc.Parameters)
	}
}
