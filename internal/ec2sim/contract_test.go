package ec2sim_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/test/iam"
)

// contractWorld is what the contract cases act on: one region of the simulator with an image, a
// launch template, an Auto Scaling group, and the clients whose responses are recorded.
type contractWorld struct {
	t        *testing.T
	sim      *ec2sim.Server
	rec      *recordingClient
	ec2      *ec2.Client
	ssm      *ssm.Client
	sts      *sts.Client
	as       *autoscaling.Client
	kms      *kms.Client
	image    string
	snapshot string
	keyID    string
	// Made by the cases, in order.
	instance, group, built, copied string
}

const contractRegion = "us-east-1"

// contractCase is one call and the fixture its response must conform to. Cases run in order on
// one world: later ones use what earlier ones made.
type contractCase struct {
	fixture string // under testdata/contract; its folder names the service
	status  int    // the HTTP status AWS answers with
	call    func(w *contractWorld) error
}

var contractCases = []contractCase{
	{"sts/GetCallerIdentity.xml", 200, func(w *contractWorld) error {
		_, err := w.sts.GetCallerIdentity(ctx(w.t), &sts.GetCallerIdentityInput{})
		return err
	}},
	{"ec2/DescribeRegions.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeRegions(ctx(w.t), &ec2.DescribeRegionsInput{})
		return err
	}},
	{"ec2/DescribeSubnets.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeSubnets(ctx(w.t), &ec2.DescribeSubnetsInput{})
		return err
	}},
	{"ec2/DescribeImages.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeImages(ctx(w.t), &ec2.DescribeImagesInput{ImageIds: []string{w.image}})
		return err
	}},
	{"ec2/errors/InvalidAMIID.NotFound.xml", 400, func(w *contractWorld) error {
		_, err := w.ec2.DescribeImages(ctx(w.t), &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
		return err
	}},
	{"ec2/errors/InvalidAMIID.Malformed.xml", 400, func(w *contractWorld) error {
		_, err := w.ec2.DescribeImages(ctx(w.t), &ec2.DescribeImagesInput{ImageIds: []string{"ami-nothex"}})
		return err
	}},
	{"ec2/DescribeSnapshots.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeSnapshots(ctx(w.t), &ec2.DescribeSnapshotsInput{SnapshotIds: []string{w.snapshot}})
		return err
	}},
	{"ec2/CreateSecurityGroup.xml", 200, func(w *contractWorld) error {
		out, err := w.ec2.CreateSecurityGroup(ctx(w.t), &ec2.CreateSecurityGroupInput{GroupName: aws.String("golden-contract"), Description: aws.String("contract")})
		if err == nil {
			w.group = aws.ToString(out.GroupId)
		}
		return err
	}},
	{"ec2/AuthorizeSecurityGroupIngress.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.AuthorizeSecurityGroupIngress(ctx(w.t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(w.group),
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				IpRanges: []types.IpRange{{CidrIp: aws.String("192.0.2.0/24")}}}}})
		return err
	}},
	{"ec2/DescribeSecurityGroups.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeSecurityGroups(ctx(w.t), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{w.group}})
		return err
	}},
	{"ec2/ImportKeyPair.xml", 200, func(w *contractWorld) error {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		key, err := ssh.NewPublicKey(pub)
		if err != nil {
			return err
		}
		_, err = w.ec2.ImportKeyPair(ctx(w.t), &ec2.ImportKeyPairInput{KeyName: aws.String("golden-contract"), PublicKeyMaterial: ssh.MarshalAuthorizedKey(key)})
		return err
	}},
	{"ec2/DescribeKeyPairs.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeKeyPairs(ctx(w.t), &ec2.DescribeKeyPairsInput{KeyNames: []string{"golden-contract"}})
		return err
	}},
	{"ec2/RunInstances.xml", 200, func(w *contractWorld) error {
		out, err := w.ec2.RunInstances(ctx(w.t), &ec2.RunInstancesInput{ImageId: aws.String(w.image), InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("golden-contract"), SecurityGroupIds: []string{w.group},
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("golden:temporary"), Value: aws.String("true")}}}}})
		if err == nil {
			w.instance = aws.ToString(out.Instances[0].InstanceId)
		}
		return err
	}},
	{"ec2/DescribeInstances.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeInstances(ctx(w.t), &ec2.DescribeInstancesInput{InstanceIds: []string{w.instance}})
		return err
	}},
	{"ec2/DescribeInstanceStatus.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeInstanceStatus(ctx(w.t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{w.instance}})
		return err
	}},
	{"ec2/GetConsoleOutput.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.GetConsoleOutput(ctx(w.t), &ec2.GetConsoleOutputInput{InstanceId: aws.String(w.instance)})
		return err
	}},
	{"ec2/StopInstances.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.StopInstances(ctx(w.t), &ec2.StopInstancesInput{InstanceIds: []string{w.instance}})
		return err
	}},
	{"ec2/ModifyInstanceAttribute.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.ModifyInstanceAttribute(ctx(w.t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(w.instance),
			EnaSupport: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
		return err
	}},
	{"ec2/CreateImage.xml", 200, func(w *contractWorld) error {
		out, err := w.ec2.CreateImage(ctx(w.t), &ec2.CreateImageInput{InstanceId: aws.String(w.instance), Name: aws.String("golden-contract-built")})
		if err == nil {
			w.built = aws.ToString(out.ImageId)
		}
		return err
	}},
	{"ec2/TerminateInstances.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.TerminateInstances(ctx(w.t), &ec2.TerminateInstancesInput{InstanceIds: []string{w.instance}})
		return err
	}},
	{"ec2/DeleteKeyPair.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DeleteKeyPair(ctx(w.t), &ec2.DeleteKeyPairInput{KeyName: aws.String("golden-contract")})
		return err
	}},
	{"ec2/CreateTags.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.CreateTags(ctx(w.t), &ec2.CreateTagsInput{Resources: []string{w.image, w.snapshot},
			Tags: []types.Tag{{Key: aws.String("golden:source-ami"), Value: aws.String("ami-0123456789abcdef0")}}})
		return err
	}},
	{"ec2/DeleteTags.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DeleteTags(ctx(w.t), &ec2.DeleteTagsInput{Resources: []string{w.image}, Tags: []types.Tag{{Key: aws.String("golden:source-ami")}}})
		return err
	}},
	{"ec2/ModifyImageAttribute.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.ModifyImageAttribute(ctx(w.t), &ec2.ModifyImageAttributeInput{ImageId: aws.String(w.image),
			LaunchPermission: &types.LaunchPermissionModifications{Add: []types.LaunchPermission{{UserId: aws.String("111122223333")}}}})
		return err
	}},
	{"ec2/DescribeImageAttribute.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeImageAttribute(ctx(w.t), &ec2.DescribeImageAttributeInput{ImageId: aws.String(w.image), Attribute: types.ImageAttributeNameLaunchPermission})
		return err
	}},
	{"ec2/ModifySnapshotAttribute.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.ModifySnapshotAttribute(ctx(w.t), &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(w.snapshot),
			Attribute: types.SnapshotAttributeNameCreateVolumePermission, OperationType: types.OperationTypeAdd, UserIds: []string{"111122223333"}})
		return err
	}},
	{"ec2/EnableImageDeprecation.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.EnableImageDeprecation(ctx(w.t), &ec2.EnableImageDeprecationInput{ImageId: aws.String(w.image), DeprecateAt: aws.Time(time.Now().Add(48 * time.Hour))})
		return err
	}},
	{"ec2/errors/InvalidParameterValue.xml", 400, func(w *contractWorld) error {
		_, err := w.ec2.EnableImageDeprecation(ctx(w.t), &ec2.EnableImageDeprecationInput{ImageId: aws.String(w.image), DeprecateAt: aws.Time(time.Now().Add(-time.Hour))})
		return err
	}},
	{"ec2/EnableImageDeregistrationProtection.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.EnableImageDeregistrationProtection(ctx(w.t), &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(w.built)})
		return err
	}},
	{"ec2/DescribeLaunchTemplates.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeLaunchTemplates(ctx(w.t), &ec2.DescribeLaunchTemplatesInput{})
		return err
	}},
	{"ec2/DescribeLaunchTemplateVersions.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeLaunchTemplateVersions(ctx(w.t), &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}})
		return err
	}},
	{"ec2/DescribeImageReferences.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DescribeImageReferences(ctx(w.t), &ec2.DescribeImageReferencesInput{ImageIds: []string{w.image}, IncludeAllResourceTypes: aws.Bool(true)})
		return err
	}},
	{"autoscaling/DescribeAutoScalingGroups.xml", 200, func(w *contractWorld) error {
		_, err := w.as.DescribeAutoScalingGroups(ctx(w.t), &autoscaling.DescribeAutoScalingGroupsInput{})
		return err
	}},
	{"autoscaling/DescribeLaunchConfigurations.xml", 200, func(w *contractWorld) error {
		_, err := w.as.DescribeLaunchConfigurations(ctx(w.t), &autoscaling.DescribeLaunchConfigurationsInput{})
		return err
	}},
	{"autoscaling/errors/ValidationError.xml", 400, func(w *contractWorld) error {
		_, err := w.as.DescribeAutoScalingGroups(ctx(w.t), &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(101)})
		return err
	}},
	{"ssm/PutParameter.json", 200, func(w *contractWorld) error {
		_, err := w.ssm.PutParameter(ctx(w.t), &ssm.PutParameterInput{Name: aws.String("/golden/contract"), Value: aws.String(w.image),
			Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:image")})
		return err
	}},
	{"ssm/GetParameter.json", 200, func(w *contractWorld) error {
		_, err := w.ssm.GetParameter(ctx(w.t), ssmGet("/golden/contract"))
		return err
	}},
	{"ssm/GetParameters.json", 200, func(w *contractWorld) error {
		_, err := w.ssm.GetParameters(ctx(w.t), &ssm.GetParametersInput{Names: []string{"/golden/contract", "/golden/absent"}})
		return err
	}},
	{"ssm/DescribeParameters.json", 200, func(w *contractWorld) error {
		_, err := w.ssm.DescribeParameters(ctx(w.t), &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("DataType"), Option: aws.String("Equals"), Values: []string{"aws:ec2:image"}}}})
		return err
	}},
	{"ssm/errors/InvalidFilterKey.json", 400, func(w *contractWorld) error {
		_, err := w.ssm.DescribeParameters(ctx(w.t), &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("Color"), Values: []string{"blue"}}}})
		return err
	}},
	{"ssm/DeleteParameter.json", 200, func(w *contractWorld) error {
		_, err := w.ssm.DeleteParameter(ctx(w.t), &ssm.DeleteParameterInput{Name: aws.String("/golden/contract")})
		return err
	}},
	{"ssm/errors/ParameterNotFound.json", 400, func(w *contractWorld) error {
		_, err := w.ssm.GetParameter(ctx(w.t), ssmGet("/golden/contract"))
		return err
	}},
	{"kms/DescribeKey.json", 200, func(w *contractWorld) error {
		_, err := w.kms.DescribeKey(ctx(w.t), &kms.DescribeKeyInput{KeyId: aws.String(w.keyID)})
		return err
	}},
	{"kms/errors/NotFoundException.json", 400, func(w *contractWorld) error {
		_, err := w.kms.DescribeKey(ctx(w.t), &kms.DescribeKeyInput{KeyId: aws.String("alias/golden-absent")})
		return err
	}},
	{"ec2/CopyImage.xml", 200, func(w *contractWorld) error {
		out, err := ec2.NewFromConfig(w.config("eu-west-1")).CopyImage(ctx(w.t), &ec2.CopyImageInput{SourceImageId: aws.String(w.image),
			SourceRegion: aws.String(contractRegion), Name: aws.String("golden-contract-copy")})
		if err == nil {
			w.copied = aws.ToString(out.ImageId)
		}
		return err
	}},
	{"ec2/DeregisterImage.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DeregisterImage(ctx(w.t), &ec2.DeregisterImageInput{ImageId: aws.String(w.image)})
		return err
	}},
	{"ec2/errors/InvalidAMIID.Unavailable.xml", 400, func(w *contractWorld) error {
		_, err := w.ec2.DeregisterImage(ctx(w.t), &ec2.DeregisterImageInput{ImageId: aws.String(w.image)})
		return err
	}},
	{"ec2/errors/InvalidSnapshot.InUse.xml", 400, func(w *contractWorld) error {
		img, _ := w.sim.Image(contractRegion, w.built)
		_, err := w.ec2.DeleteSnapshot(ctx(w.t), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(img.BlockDevices[0].SnapshotID)})
		return err
	}},
	{"ec2/errors/RequestLimitExceeded.xml", 503, func(w *contractWorld) error {
		w.sim.FailNth("DescribeImages", 1, "RequestLimitExceeded", "Request limit exceeded.")
		_, err := w.ec2.DescribeImages(ctx(w.t), &ec2.DescribeImagesInput{ImageIds: []string{w.built}})
		return err
	}},
	{"ec2/DeleteSnapshot.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DeleteSnapshot(ctx(w.t), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(w.snapshot)})
		return err
	}},
	{"ec2/errors/DependencyViolation.xml", 400, func(w *contractWorld) error {
		// A group an instance still uses cannot be deleted.
		group, err := w.ec2.CreateSecurityGroup(ctx(w.t), &ec2.CreateSecurityGroupInput{GroupName: aws.String("golden-contract-used"), Description: aws.String("in use")})
		if err != nil {
			return err
		}
		in := w.sim.AddInstance(contractRegion, ec2sim.InstanceSeed{ImageID: w.built})
		if _, err := w.ec2.ModifyInstanceAttribute(ctx(w.t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(in), Groups: []string{aws.ToString(group.GroupId)}}); err != nil {
			return err
		}
		_, err = w.ec2.DeleteSecurityGroup(ctx(w.t), &ec2.DeleteSecurityGroupInput{GroupId: group.GroupId})
		return err
	}},
	{"ec2/DeleteSecurityGroup.xml", 200, func(w *contractWorld) error {
		_, err := w.ec2.DeleteSecurityGroup(ctx(w.t), &ec2.DeleteSecurityGroupInput{GroupId: aws.String(w.group)})
		return err
	}},
}

func (w *contractWorld) config(region string) aws.Config {
	cfg := awsConfig(w.sim, region)
	cfg.HTTPClient = w.rec
	// One attempt: the recorded answer is the one the case's call got.
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return cfg
}

// TestResponsesMatchTheAPIReference: every action the components call answers in the shape the
// service's API reference documents, errors included (testdata/contract, written from the EC2,
// Auto Scaling, Systems Manager, KMS and STS API references).
func TestResponsesMatchTheAPIReference(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	w := &contractWorld{t: t, sim: sim, rec: &recordingClient{}}
	w.image = sim.AddImage(contractRegion, ec2sim.ImageSeed{Name: "golden-contract", Tags: map[string]string{"Pipeline": "contract"},
		Snapshots: []ec2sim.SnapshotSeed{{SizeGiB: 8}}})
	img, _ := sim.Image(contractRegion, w.image)
	w.snapshot = img.BlockDevices[0].SnapshotID
	sim.AddInstance(contractRegion, ec2sim.InstanceSeed{ImageID: w.image})
	lt := sim.AddLaunchTemplate(contractRegion, ec2sim.LaunchTemplateSeed{Name: "golden-contract", Versions: []string{w.image, w.image}})
	sim.AddLaunchConfiguration(contractRegion, "golden-contract", w.image)
	sim.AddAutoScalingGroup(contractRegion, ec2sim.ASGSeed{Name: "golden-contract", LaunchTemplateID: lt, LaunchTemplateVersion: "$Latest"})
	sim.AddAutoScalingGroup(contractRegion, ec2sim.ASGSeed{Name: "golden-contract-lc", LaunchConfigurationName: "golden-contract"})
	sim.PutParameter(contractRegion, "/golden/current", w.image, "aws:ec2:image")
	w.keyID, _ = sim.AddKMSKey(contractRegion, "alias/golden-contract")
	cfg := w.config(contractRegion)
	w.ec2, w.ssm, w.sts = ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	w.as, w.kms = autoscaling.NewFromConfig(cfg), kms.NewFromConfig(cfg)

	for _, c := range contractCases {
		name := strings.TrimSuffix(c.fixture, filepath.Ext(c.fixture))
		fixture, err := os.ReadFile(filepath.Join("testdata", "contract", c.fixture))
		if err != nil {
			t.Fatal(err)
		}
		action := filepath.Base(filepath.Dir(c.fixture))
		if action == "errors" {
			action = ""
		}
		err = c.call(w)
		wantErr := c.status >= 400
		if (err != nil) != wantErr {
			t.Errorf("%s: call error %v, want an error: %v", name, err, wantErr)
			continue
		}
		got, ok := w.rec.lastAny()
		if !ok {
			t.Fatalf("%s: no response recorded", name)
		}
		if got.status != c.status {
			t.Errorf("%s: HTTP %d, want %d", name, got.status, c.status)
		}
		problems, err := conforms(fixture, got.body, strings.HasSuffix(c.fixture, ".json"))
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, got.body)
			continue
		}
		for _, p := range problems {
			t.Errorf("%s (%s): %s", name, got.action, p)
		}
		if len(problems) > 0 {
			t.Logf("%s: the simulator answered\n%s", name, got.body)
		}
	}
}

// TestContractCoversEveryAction: every action a component's policy in docs/iam.md allows, and
// sts:GetCallerIdentity, has a contract case; permissions checked on another call only
// (PermissionOnly) have none.
func TestContractCoversEveryAction(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "iam.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections, err := iam.ParseDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range contractCases {
		if !strings.Contains(c.fixture, "/errors/") {
			service, file := filepath.Split(c.fixture)
			covered[strings.TrimSuffix(service, "/")+":"+strings.TrimSuffix(file, filepath.Ext(file))] = true
		}
	}
	want := []string{"sts:GetCallerIdentity"}
	for _, s := range sections {
		want = append(want, s.Actions()...)
	}
	for _, action := range want {
		if !covered[action] && !slices.Contains(ec2sim.PermissionOnly, action) {
			t.Errorf("%s: a component calls it (docs/iam.md), and no contract case answers it", action)
		}
	}
}
