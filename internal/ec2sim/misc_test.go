package ec2sim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

func TestImageReferences(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	used := s.AddImage(region, ec2sim.ImageSeed{Name: "used"})
	unused := s.AddImage(region, ec2sim.ImageSeed{Name: "unused"})
	running := s.AddInstance(region, ec2sim.InstanceSeed{ImageID: used})
	s.AddInstance(region, ec2sim.InstanceSeed{ImageID: used, State: "terminated"})
	s.PutParameter(region, "/golden/current", used, "aws:ec2:image")
	s.PutParameter(region, "/golden/alias", used, "aws:ec2:image")
	lt := s.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: "via-alias", Versions: []string{unused, "resolve:ssm:/golden/alias"}})
	client := newEC2(s, region)
	out, err := client.DescribeImageReferences(ctx(t), &ec2.DescribeImageReferencesInput{ImageIds: []string{used, unused},
		ResourceTypes: []types.ResourceTypeRequest{
			{ResourceType: types.ImageReferenceResourceTypeEc2Instance, ResourceTypeOptions: []types.ResourceTypeOption{
				{OptionName: types.ImageReferenceOptionNameStateName, OptionValues: []string{"pending", "running", "stopping", "stopped"}}}},
			{ResourceType: types.ImageReferenceResourceTypeEc2LaunchTemplate, ResourceTypeOptions: []types.ResourceTypeOption{
				{OptionName: types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{"1"}}}},
			{ResourceType: types.ImageReferenceResourceTypeSsmParameter},
		}})
	must(t, err)
	var got []string
	for _, r := range out.ImageReferences {
		arn := aws.ToString(r.Arn)
		got = append(got, aws.ToString(r.ImageId)+" "+string(r.ResourceType)+" "+arn[strings.LastIndexAny(arn, "/:")+1:])
	}
	want := []string{used + " ec2:Instance " + running, used + " ec2:LaunchTemplate " + lt, used + " ssm:Parameter alias", used + " ssm:Parameter current"}
	if !slices.Equal(got, want) {
		t.Fatalf("references\n got %v\nwant %v", got, want)
	}
}

func TestDescribeVolumes(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "two-disks", Snapshots: []ec2sim.SnapshotSeed{{SizeGiB: 8}, {SizeGiB: 100}}})
	client := newEC2(s, region)
	run, err := client.RunInstances(ctx(t), &ec2.RunInstancesInput{ImageId: aws.String(ami), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: types.InstanceTypeT3Micro, TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVolume,
			Tags: []types.Tag{{Key: aws.String("golden:build"), Value: aws.String("b9")}}}}})
	must(t, err)
	out, err := client.DescribeVolumes(ctx(t), &ec2.DescribeVolumesInput{Filters: []types.Filter{
		filter("attachment.instance-id", aws.ToString(run.Instances[0].InstanceId)), filter("tag:golden:build", "b9")}})
	must(t, err)
	if len(out.Volumes) != 2 || aws.ToInt32(out.Volumes[1].Size) != 100 || out.Volumes[0].State != types.VolumeStateInUse ||
		aws.ToString(out.Volumes[0].Attachments[0].Device) != "/dev/xvda" {
		t.Fatalf("volumes %+v", out.Volumes)
	}
}

func TestNetworkDescriptions(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	client := newEC2(s, "ap-northeast-1")
	c := ctx(t)
	zones, err := client.DescribeAvailabilityZones(c, &ec2.DescribeAvailabilityZonesInput{})
	must(t, err)
	if len(zones.AvailabilityZones) != 3 || aws.ToString(zones.AvailabilityZones[0].ZoneId) != "apne1-az1" {
		t.Fatalf("zones %+v", zones.AvailabilityZones)
	}
	regions, err := client.DescribeRegions(c, &ec2.DescribeRegionsInput{Filters: []types.Filter{filter("region-name", "eu-*")}})
	must(t, err)
	if len(regions.Regions) < 5 || !strings.HasPrefix(aws.ToString(regions.Regions[0].RegionName), "eu-") {
		t.Fatalf("regions %+v", regions.Regions)
	}
	sg, err := client.CreateSecurityGroup(c, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("golden:build"), Value: aws.String("b1")}}}}})
	must(t, err)
	_, err = client.CreateSecurityGroup(c, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	wantCode(t, err, "InvalidGroup.Duplicate")
	_, err = client.AuthorizeSecurityGroupIngress(c, &ec2.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("web"), IpProtocol: aws.String("tcp"),
		FromPort: aws.Int32(443), ToPort: aws.Int32(443), CidrIp: aws.String("10.0.0.0/8")})
	must(t, err)
	_, err = client.AuthorizeSecurityGroupIngress(c, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("300.0.0.1/32")}}}}})
	wantCode(t, err, "InvalidParameterValue")
	groups, err := client.DescribeSecurityGroups(c, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("ip-permission.from-port", "443"), filter("tag-key", "golden:build")}})
	must(t, err)
	if len(groups.SecurityGroups) != 1 || aws.ToString(groups.SecurityGroups[0].GroupId) != aws.ToString(sg.GroupId) ||
		aws.ToString(groups.SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp) != "10.0.0.0/8" || aws.ToString(groups.SecurityGroups[0].IpPermissionsEgress[0].IpProtocol) != "-1" {
		t.Fatalf("groups %+v", groups.SecurityGroups)
	}
	def, err := client.DescribeSecurityGroups(c, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	must(t, err)
	_, err = client.DeleteSecurityGroup(c, &ec2.DeleteSecurityGroupInput{GroupId: def.SecurityGroups[0].GroupId})
	wantCode(t, err, "CannotDelete")
	_, err = client.DescribeSecurityGroups(c, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0123456789abcdef0"}})
	wantCode(t, err, "InvalidGroup.NotFound")
	_, err = client.DescribeSubnets(c, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
	wantCode(t, err, "InvalidSubnetID.NotFound")
}

func TestListingLimits(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	client := newEC2(s, "us-east-1")
	c := ctx(t)
	many := make([]string, 201)
	for i := range many {
		many[i] = "ami-0123456789abcdef0"
	}
	_, err := client.DescribeImages(c, &ec2.DescribeImagesInput{Filters: []types.Filter{filter("image-id", many...)}})
	wantCode(t, err, "FilterLimitExceeded")
	_, err = client.DescribeInstances(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{NextToken: aws.String("not-a-token")})
	wantCode(t, err, "InvalidParameterValue")
	// A token only works for the listing that issued it.
	page, err := client.DescribeSnapshots(c, &ec2.DescribeSnapshotsInput{MaxResults: aws.Int32(5)})
	must(t, err)
	if page.NextToken == nil {
		t.Fatal("the public snapshots of a region fill more than one page of 5")
	}
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{NextToken: page.NextToken})
	wantCode(t, err, "InvalidParameterValue")
}

func TestSeedDocument(t *testing.T) {
	doc := `{"regions": {
	  "us-east-1": {
	    "images": [{"id": "ami-0aaaaaaaaaaaaaaa1", "name": "golden-1", "tags": {"golden:validation": "passed"}, "creationDate": "2024-05-01T10:00:00Z"}],
	    "launchTemplates": [{"id": "lt-0aaaaaaaaaaaaaaa1", "name": "web", "versions": ["ami-0aaaaaaaaaaaaaaa1"]}],
	    "instances": [{"imageId": "ami-0aaaaaaaaaaaaaaa1", "state": "stopped"}],
	    "launchConfigurations": [{"name": "old", "imageId": "ami-0aaaaaaaaaaaaaaa1"}],
	    "autoScalingGroups": [{"name": "web", "launchTemplateId": "lt-0aaaaaaaaaaaaaaa1"}],
	    "parameters": [{"name": "/golden/web", "value": "ami-0aaaaaaaaaaaaaaa1", "dataType": "aws:ec2:image"}]
	  }}}`
	sf, err := ec2sim.DecodeSeed(strings.NewReader(doc))
	must(t, err)
	s := ec2sim.StartTest(t, ec2sim.Options{})
	must(t, s.Seed(sf))
	img, ok := s.Image("us-east-1", "ami-0aaaaaaaaaaaaaaa1")
	if !ok || img.Tags["golden:validation"] != "passed" || img.CreationDate.Year() != 2024 {
		t.Fatalf("seeded image %+v", img)
	}
	if in := s.Instances("us-east-1"); len(in) != 1 || in[0].State != "stopped" {
		t.Fatalf("seeded instances %+v", in)
	}
	if v, _ := s.Parameter("us-east-1", "/golden/web"); v != "ami-0aaaaaaaaaaaaaaa1" {
		t.Fatalf("seeded parameter %q", v)
	}
	if lts := s.LaunchTemplates("us-east-1"); len(lts) != 1 || lts[0].Versions[0].Data.ImageID != "ami-0aaaaaaaaaaaaaaa1" {
		t.Fatalf("seeded templates %+v", lts)
	}
	for _, bad := range []string{
		`{"regions": {"us-east-1": {"imagez": []}}}`,
		`{"regions": {"mars-1": {}}}`,
		`{"regions": {"us-east-1": {"images": [{"id": "ami-1", "name": "x"}]}}}`,
		`{"regions": {"us-east-1": {"instances": [{"state": "running"}]}}}`,
	} {
		sf, err := ec2sim.DecodeSeed(strings.NewReader(bad))
		if err == nil {
			err = s.Seed(sf)
		}
		if err == nil {
			t.Errorf("seed %s accepted", bad)
		}
	}
}
