package ec2sim_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// TestBuildFlow walks what an image builder does: key pair, security group, instance, stop,
// image, cleanup, with the SDK's waiters watching each transition.
func TestBuildFlow(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{InstanceAddress: "127.0.0.9", Delays: fastDelays})
	const region = "us-east-1"
	client := newEC2(s, region)
	c := ctx(t)

	param, err := newSSM(s, region).GetParameter(c, ssmGet("/aws/service/debian/release/12/latest/amd64"))
	must(t, err)
	sourceAMI := aws.ToString(param.Parameter.Value)

	key, err := client.CreateKeyPair(c, &ec2.CreateKeyPairInput{KeyName: aws.String("golden-build-1"), KeyType: types.KeyTypeEd25519,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeKeyPair, Tags: []types.Tag{{Key: aws.String("golden:build"), Value: aws.String("b1")}}}}})
	must(t, err)
	signer, err := ssh.ParsePrivateKey([]byte(aws.ToString(key.KeyMaterial)))
	must(t, err)
	if signer.PublicKey().Type() != ssh.KeyAlgoED25519 || !strings.HasPrefix(aws.ToString(key.KeyPairId), "key-") || len(key.Tags) != 1 {
		t.Fatalf("key pair: type %s id %s tags %v", signer.PublicKey().Type(), aws.ToString(key.KeyPairId), key.Tags)
	}
	keys, err := client.DescribeKeyPairs(c, &ec2.DescribeKeyPairsInput{KeyNames: []string{"golden-build-1"}, IncludePublicKey: aws.Bool(true)})
	must(t, err)
	if !strings.HasPrefix(aws.ToString(keys.KeyPairs[0].PublicKey), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))) {
		t.Fatalf("public key %q does not match the private key", aws.ToString(keys.KeyPairs[0].PublicKey))
	}

	vpcs, err := client.DescribeVpcs(c, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("is-default", "true")}})
	must(t, err)
	vpcID := aws.ToString(vpcs.Vpcs[0].VpcId)
	subnets, err := client.DescribeSubnets(c, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpcID), filter("default-for-az", "true")}})
	must(t, err)
	if len(subnets.Subnets) != 3 {
		t.Fatalf("want a default subnet per zone, got %d", len(subnets.Subnets))
	}
	sg, err := client.CreateSecurityGroup(c, &ec2.CreateSecurityGroupInput{GroupName: aws.String("golden-build-1"), Description: aws.String("temporary"), VpcId: aws.String(vpcID)})
	must(t, err)
	_, err = client.AuthorizeSecurityGroupIngress(c, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.7/32")}}}}})
	must(t, err)
	_, err = client.AuthorizeSecurityGroupIngress(c, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.7/32")}}}}})
	wantCode(t, err, "InvalidPermission.Duplicate")

	run, err := client.RunInstances(c, &ec2.RunInstancesInput{
		ImageId: aws.String(sourceAMI), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String("golden-build-1"), SecurityGroupIds: []string{aws.ToString(sg.GroupId)}, SubnetId: subnets.Subnets[1].SubnetId,
		MetadataOptions: &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2)},
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"),
			Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp3, Encrypted: aws.Bool(true)}}},
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("golden builder")}}},
			{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("golden:build"), Value: aws.String("b1")}}},
		},
	})
	must(t, err)
	inst := run.Instances[0]
	id := aws.ToString(inst.InstanceId)
	if inst.State.Name != types.InstanceStateNamePending || aws.ToString(inst.PublicIpAddress) != "127.0.0.9" ||
		aws.ToString(inst.PrivateIpAddress) != "127.0.0.9" || inst.MetadataOptions.HttpTokens != types.HttpTokensStateRequired ||
		aws.ToString(inst.SubnetId) != aws.ToString(subnets.Subnets[1].SubnetId) || len(inst.Tags) != 1 {
		t.Fatalf("launched instance %+v", inst)
	}

	must(t, ec2.NewInstanceRunningWaiter(client, fastWaiter[ec2.InstanceRunningWaiterOptions]).Wait(c, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second))
	must(t, ec2.NewInstanceStatusOkWaiter(client, fastWaiter[ec2.InstanceStatusOkWaiterOptions]).Wait(c, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}}, 10*time.Second))
	console, err := client.GetConsoleOutput(c, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	must(t, err)
	text, err := base64.StdEncoding.DecodeString(aws.ToString(console.Output))
	must(t, err)
	if !strings.Contains(string(text), "Cloud-init v. 22.4.2 finished") {
		t.Fatalf("console output %q", text)
	}

	// The group is in use until the instance is gone.
	_, err = client.DeleteSecurityGroup(c, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	wantCode(t, err, "DependencyViolation")

	stop, err := client.StopInstances(c, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	if stop.StoppingInstances[0].PreviousState.Name != types.InstanceStateNameRunning || stop.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopping {
		t.Fatalf("stop: %+v", stop.StoppingInstances[0])
	}
	must(t, ec2.NewInstanceStoppedWaiter(client, fastWaiter[ec2.InstanceStoppedWaiterOptions]).Wait(c, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second))

	created, err := client.CreateImage(c, &ec2.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("golden-debian-12-b1"),
		Description: aws.String("golden build b1"), TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("golden:build"), Value: aws.String("b1")}}},
			{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("golden:build"), Value: aws.String("b1")}}},
		}})
	must(t, err)
	amiID := aws.ToString(created.ImageId)
	pending, err := client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{amiID}})
	must(t, err)
	if pending.Images[0].State != types.ImageStatePending {
		t.Fatalf("a new image starts pending, got %s", pending.Images[0].State)
	}
	must(t, ec2.NewImageAvailableWaiter(client, fastWaiter[ec2.ImageAvailableWaiterOptions]).Wait(c, &ec2.DescribeImagesInput{ImageIds: []string{amiID}}, 10*time.Second))
	img, _ := s.Image(region, amiID)
	if img.SourceInstanceID != id || img.Tags["golden:build"] != "b1" || len(img.BlockDevices) != 1 || img.BlockDevices[0].SizeGiB != 20 ||
		!img.BlockDevices[0].Encrypted || img.ImdsSupport != "v2.0" {
		t.Fatalf("image %+v", img)
	}
	snapID := img.BlockDevices[0].SnapshotID
	must(t, ec2.NewSnapshotCompletedWaiter(client, fastWaiter[ec2.SnapshotCompletedWaiterOptions]).Wait(c, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snapID}}, 10*time.Second))
	snaps, err := client.DescribeSnapshots(c, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{filter("tag:golden:build", "b1")}})
	must(t, err)
	if len(snaps.Snapshots) != 1 || aws.ToString(snaps.Snapshots[0].SnapshotId) != snapID || aws.ToInt32(snaps.Snapshots[0].VolumeSize) != 20 {
		t.Fatalf("snapshots %+v", snaps.Snapshots)
	}

	term, err := client.TerminateInstances(c, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	if term.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameShuttingDown {
		t.Fatalf("terminate: %+v", term.TerminatingInstances[0])
	}
	must(t, ec2.NewInstanceTerminatedWaiter(client, fastWaiter[ec2.InstanceTerminatedWaiterOptions]).Wait(c, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second))
	_, err = client.DeleteSecurityGroup(c, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
	must(t, err)
	_, err = client.DeleteKeyPair(c, &ec2.DeleteKeyPairInput{KeyName: aws.String("golden-build-1")})
	must(t, err)
	if len(s.KeyPairs(region)) != 0 || len(s.SecurityGroups(region)) != 1 {
		t.Fatalf("cleanup left %d key pairs and %d groups", len(s.KeyPairs(region)), len(s.SecurityGroups(region)))
	}
	// Terminated instances stay visible, without addresses.
	all := s.Instances(region)
	if len(all) != 1 || all[0].State != "terminated" || all[0].PublicIP != "" || all[0].Volumes[0].Tags["golden:build"] != "b1" {
		t.Fatalf("instances after cleanup %+v", all)
	}
}

// fastWaiter polls often: the waiters' defaults (15 s) would dominate the suite.
func fastWaiter[T any](o *T) {
	switch v := any(o).(type) {
	case *ec2.InstanceRunningWaiterOptions:
		v.MinDelay, v.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	case *ec2.InstanceStatusOkWaiterOptions:
		v.MinDelay, v.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	case *ec2.InstanceStoppedWaiterOptions:
		v.MinDelay, v.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	case *ec2.InstanceTerminatedWaiterOptions:
		v.MinDelay, v.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	case *ec2.ImageAvailableWaiterOptions:
		v.MinDelay, v.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	case *ec2.SnapshotCompletedWaiterOptions:
		v.MinDelay, v.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
	}
}

func TestRunInstancesValidation(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{Delays: ec2sim.Delays{ImagePending: time.Hour}})
	const region = "eu-central-1"
	client := newEC2(s, region)
	c := ctx(t)
	amd := s.AddImage(region, ec2sim.ImageSeed{Name: "amd"})
	arm := s.AddImage(region, ec2sim.ImageSeed{Name: "arm", Architecture: "arm64"})
	pending := s.AddImage(region, ec2sim.ImageSeed{Name: "pending", State: "pending"})
	run := func(mut func(*ec2.RunInstancesInput)) error {
		in := &ec2.RunInstancesInput{ImageId: aws.String(amd), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
		mut(in)
		_, err := client.RunInstances(c, in)
		return err
	}
	for _, tc := range []struct {
		name string
		mut  func(*ec2.RunInstancesInput)
		code string
	}{
		{"missing image", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ami-0123456789abcdef0") }, "InvalidAMIID.NotFound"},
		{"malformed image", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String("ubuntu") }, "InvalidAMIID.Malformed"},
		{"pending image", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String(pending) }, "InvalidAMIID.Unavailable"},
		{"unknown key", func(in *ec2.RunInstancesInput) { in.KeyName = aws.String("nope") }, "InvalidKeyPair.NotFound"},
		{"unknown group", func(in *ec2.RunInstancesInput) { in.SecurityGroupIds = []string{"sg-0123456789abcdef0"} }, "InvalidGroup.NotFound"},
		{"unknown subnet", func(in *ec2.RunInstancesInput) { in.SubnetId = aws.String("subnet-0123456789abcdef0") }, "InvalidSubnetID.NotFound"},
		{"architecture mismatch", func(in *ec2.RunInstancesInput) { in.ImageId = aws.String(arm) }, "InvalidParameterValue"},
		{"arm on graviton", func(in *ec2.RunInstancesInput) {
			in.ImageId, in.InstanceType = aws.String(arm), types.InstanceTypeT4gMicro
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.mut)
			if tc.code == "" {
				must(t, err)
				return
			}
			wantCode(t, err, tc.code)
		})
	}
	_, err := client.DescribeInstances(c, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = client.StopInstances(c, &ec2.StopInstancesInput{InstanceIds: []string{"i-bad"}})
	wantCode(t, err, "InvalidInstanceID.Malformed")
}

func TestDescribeInstancesFiltersAndPaginator(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-2"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "base"})
	var running, stopped []string
	for i := range 12 {
		state := "running"
		if i%3 == 0 {
			state = "stopped"
		}
		id := s.AddInstance(region, ec2sim.InstanceSeed{ImageID: ami, State: state, Tags: map[string]string{"Role": "web"}})
		if state == "running" {
			running = append(running, id)
		} else {
			stopped = append(stopped, id)
		}
	}
	s.AddInstance(region, ec2sim.InstanceSeed{ImageID: "ami-0aaaaaaaaaaaaaaaa", State: "terminated"})
	client := newEC2(s, region)
	var got []string
	p := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5),
		Filters: []types.Filter{filter("instance-state-name", "running"), filter("image-id", ami), filter("tag:Role", "web")}})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		must(t, err)
		pages++
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				got = append(got, aws.ToString(in.InstanceId))
			}
		}
	}
	if !slices.Equal(got, running) || pages != 2 {
		t.Fatalf("got %v in %d pages, want %v in 2", got, pages, running)
	}
	status, err := client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{InstanceIds: stopped[:1]})
	must(t, err)
	if len(status.InstanceStatuses) != 0 {
		t.Fatalf("stopped instance reported without IncludeAllInstances")
	}
	status, err = client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{InstanceIds: stopped[:1], IncludeAllInstances: aws.Bool(true)})
	must(t, err)
	if len(status.InstanceStatuses) != 1 || status.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusNotApplicable {
		t.Fatalf("status %+v", status.InstanceStatuses)
	}
}

func TestKeyPairs(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	client := newEC2(s, "us-east-1")
	c := ctx(t)
	rsa, err := client.CreateKeyPair(c, &ec2.CreateKeyPairInput{KeyName: aws.String("rsa")})
	must(t, err)
	if _, err := ssh.ParsePrivateKey([]byte(aws.ToString(rsa.KeyMaterial))); err != nil || !strings.HasPrefix(aws.ToString(rsa.KeyMaterial), "-----BEGIN RSA PRIVATE KEY-----") {
		t.Fatalf("rsa key material unusable: %v", err)
	}
	if strings.Count(aws.ToString(rsa.KeyFingerprint), ":") != 19 {
		t.Fatalf("rsa fingerprint %q is not a colon-separated SHA-1", aws.ToString(rsa.KeyFingerprint))
	}
	_, err = client.CreateKeyPair(c, &ec2.CreateKeyPairInput{KeyName: aws.String("rsa")})
	wantCode(t, err, "InvalidKeyPair.Duplicate")
	pub := []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGiVN+7VjYhpQkDDdO2vCQY5j7C1/6FuTBqBvTfNMhgW someone@example")
	imported, err := client.ImportKeyPair(c, &ec2.ImportKeyPairInput{KeyName: aws.String("imported"), PublicKeyMaterial: pub})
	must(t, err)
	if aws.ToString(imported.KeyFingerprint) == "" {
		t.Fatal("no fingerprint for an imported key")
	}
	_, err = client.ImportKeyPair(c, &ec2.ImportKeyPairInput{KeyName: aws.String("junk"), PublicKeyMaterial: []byte("not a key")})
	wantCode(t, err, "InvalidKey.Format")
	_, err = client.DescribeKeyPairs(c, &ec2.DescribeKeyPairsInput{KeyNames: []string{"missing"}})
	wantCode(t, err, "InvalidKeyPair.NotFound")
	out, err := client.DescribeKeyPairs(c, &ec2.DescribeKeyPairsInput{Filters: []types.Filter{filter("key-type", "ed25519")}})
	must(t, err)
	if len(out.KeyPairs) != 1 || aws.ToString(out.KeyPairs[0].KeyName) != "imported" {
		t.Fatalf("filtered key pairs %+v", out.KeyPairs)
	}
}

func TestSeededTransitionsTakeTheirDelay(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{Delays: fastDelays})
	const region = "sa-east-1"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "seeded"})
	id := s.AddInstance(region, ec2sim.InstanceSeed{ImageID: ami, State: "pending"})
	if got := s.Instances(region)[0]; got.State != "pending" || got.PublicIP != "127.0.0.1" {
		t.Fatalf("seeded pending instance %+v", got)
	}
	client := newEC2(s, region)
	must(t, ec2.NewInstanceRunningWaiter(client, fastWaiter[ec2.InstanceRunningWaiterOptions]).Wait(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second))
}

// ENA support is set on a stopped instance only, and the image made of it takes it.
func TestENASupport(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	client := newEC2(s, region)
	running := s.AddInstance(region, ec2sim.InstanceSeed{ImageID: "ami-0123456789abcdef0"})
	stopped := s.AddInstance(region, ec2sim.InstanceSeed{ImageID: "ami-0123456789abcdef0", State: "stopped"})
	off := &types.AttributeBooleanValue{Value: aws.Bool(false)}
	_, err := client.ModifyInstanceAttribute(ctx(t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(running), EnaSupport: off})
	wantCode(t, err, "IncorrectInstanceState")
	_, err = client.ModifyInstanceAttribute(ctx(t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(stopped), EnaSupport: off})
	must(t, err)
	out, err := client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{stopped}})
	must(t, err)
	if aws.ToBool(out.Reservations[0].Instances[0].EnaSupport) {
		t.Error("ENA support still on after turning it off")
	}
	img, err := client.CreateImage(ctx(t), &ec2.CreateImageInput{InstanceId: aws.String(stopped), Name: aws.String("no-ena")})
	must(t, err)
	images, err := client.DescribeImages(ctx(t), &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(img.ImageId)}})
	must(t, err)
	if aws.ToBool(images.Images[0].EnaSupport) {
		t.Error("the image of an instance without ENA support has it")
	}
}
