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

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

const (
	debian12Param = "/aws/service/debian/release/12/latest/amd64"
	jammyParam    = "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id"
	nobleParam    = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
	resoluteParam = "/aws/service/canonical/ubuntu/server/26.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
	trixieParam   = "/aws/service/debian/release/13/latest/amd64"
	al2023Param   = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
)

func startMachineSim(t *testing.T, host *fakeHost) *ec2sim.Server {
	t.Helper()
	return ec2sim.StartTest(t, ec2sim.Options{Machines: host, Delays: fastDelays})
}

func paramValue(t *testing.T, s *ec2sim.Server, region, name string) string {
	t.Helper()
	out, err := newSSM(s, region).GetParameter(ctx(t), ssmGet(name))
	must(t, err)
	return aws.ToString(out.Parameter.Value)
}

// launch runs one instance and returns it as RunInstances answered.
func launch(t *testing.T, client *ec2.Client, in *ec2.RunInstancesInput) types.Instance {
	t.Helper()
	if in.InstanceType == "" {
		in.InstanceType = "t3.micro"
	}
	in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
	out, err := client.RunInstances(ctx(t), in)
	must(t, err)
	return out.Instances[0]
}

func describeInstance(t *testing.T, client *ec2.Client, id string) types.Instance {
	t.Helper()
	out, err := client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	return out.Reservations[0].Instances[0]
}

// waitFor waits with the SDK's own waiters, polling fast.
func waitFor(t *testing.T, client *ec2.Client, id, state string) types.Instance {
	t.Helper()
	in := &ec2.DescribeInstancesInput{InstanceIds: []string{id}}
	fast := func(min, max *time.Duration) { *min, *max = 20*time.Millisecond, 100*time.Millisecond }
	var err error
	switch state {
	case "running":
		err = ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) }).Wait(ctx(t), in, 10*time.Second)
	case "stopped":
		err = ec2.NewInstanceStoppedWaiter(client, func(o *ec2.InstanceStoppedWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) }).Wait(ctx(t), in, 10*time.Second)
	case "terminated":
		err = ec2.NewInstanceTerminatedWaiter(client, func(o *ec2.InstanceTerminatedWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) }).Wait(ctx(t), in, 10*time.Second)
	default:
		t.Fatalf("no waiter for %s", state)
	}
	must(t, err)
	return describeInstance(t, client, id)
}

func waitImage(t *testing.T, client *ec2.Client, id string) types.Image {
	t.Helper()
	must(t, ec2.NewImageAvailableWaiter(client, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	}).Wait(ctx(t), &ec2.DescribeImagesInput{ImageIds: []string{id}}, 10*time.Second))
	out, err := client.DescribeImages(ctx(t), &ec2.DescribeImagesInput{ImageIds: []string{id}})
	must(t, err)
	return out.Images[0]
}

// eventually polls cond for up to 5 s: for what the simulator finishes in the background.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestVendorImagesBootMachines(t *testing.T) {
	host := newFakeHost("debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04", "ubuntu-26.04", "al2023")
	s := startMachineSim(t, host)
	const region = "eu-west-1"
	client := newEC2(s, region)
	for param, base := range map[string]string{debian12Param: "debian-12", trixieParam: "debian-13", jammyParam: "ubuntu-22.04",
		nobleParam: "ubuntu-24.04", resoluteParam: "ubuntu-26.04", al2023Param: "al2023"} {
		ami := paramValue(t, s, region, param)
		launched := launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(ami)})
		id := aws.ToString(launched.InstanceId)
		if launched.State.Name != types.InstanceStateNamePending {
			t.Errorf("%s: RunInstances answered %s, want pending", base, launched.State.Name)
		}
		in := waitFor(t, client, id, "running")
		m := host.machine(t, id)
		if m.spec.Base != base || len(m.spec.Layers) != 0 || m.spec.Region != region || m.spec.InstanceID != id {
			t.Errorf("%s booted %+v", param, m.spec)
		}
		if m.spec.IMDSAddress != s.IMDSAddress() || s.IMDSAddress() == "" {
			t.Errorf("machine told IMDS is at %q, the simulator serves it at %q", m.spec.IMDSAddress, s.IMDSAddress())
		}
		addr := m.Address()
		dashed := strings.ReplaceAll(addr, ".", "-")
		if aws.ToString(in.PrivateIpAddress) != addr || aws.ToString(in.PublicIpAddress) != addr ||
			aws.ToString(in.PrivateDnsName) != "ip-"+dashed+".eu-west-1.compute.internal" ||
			aws.ToString(in.PublicDnsName) != "ec2-"+dashed+".eu-west-1.compute.internal" {
			t.Errorf("%s: addresses %s %s %s %s, machine has %s", base, aws.ToString(in.PrivateIpAddress), aws.ToString(in.PublicIpAddress),
				aws.ToString(in.PrivateDnsName), aws.ToString(in.PublicDnsName), addr)
		}
	}

	// Images the host has no disk for keep the fixed address: a seeded image of the account's
	// own, and a vendor image of a release the host does not boot.
	own := s.AddImage(region, ec2sim.ImageSeed{Name: "no-disk"})
	focal := paramValue(t, s, region, "/aws/service/canonical/ubuntu/server/20.04/stable/current/amd64/hvm/ebs-gp2/ami-id")
	for _, ami := range []string{own, focal} {
		id := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(ami)}).InstanceId)
		in := waitFor(t, client, id, "running")
		if aws.ToString(in.PublicIpAddress) != "127.0.0.1" {
			t.Errorf("instance of %s without a disk has address %s, want the fixed 127.0.0.1", ami, aws.ToString(in.PublicIpAddress))
		}
		host.mu.Lock()
		_, booted := host.machines[id]
		host.mu.Unlock()
		if booted {
			t.Errorf("a machine was booted for %s, an image without a disk", ami)
		}
	}
}

func TestMachineStatesFollowTheMachine(t *testing.T) {
	host := newFakeHost("debian-12")
	host.bootDelay = 300 * time.Millisecond
	s := startMachineSim(t, host)
	const region = "us-east-1"
	client := newEC2(s, region)
	id := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(paramValue(t, s, region, debian12Param))}).InstanceId)

	// Pending until the machine has booted, however short the simulated delay.
	eventually(t, "the machine's address", func() bool { return aws.ToString(describeInstance(t, client, id).PrivateIpAddress) != "" })
	if st := describeInstance(t, client, id).State.Name; st != types.InstanceStateNamePending {
		t.Fatalf("state %s before the machine booted, want pending", st)
	}
	status, err := client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	must(t, err)
	if len(status.InstanceStatuses) != 0 {
		t.Fatalf("status of a pending instance reported without IncludeAllInstances: %+v", status.InstanceStatuses)
	}
	in := waitFor(t, client, id, "running")
	if aws.ToString(in.PrivateDnsName) == "" || aws.ToString(in.PrivateDnsName) != "ip-"+strings.ReplaceAll(aws.ToString(in.PrivateIpAddress), ".", "-")+".ec2.internal" {
		t.Errorf("private DNS name %q in us-east-1", aws.ToString(in.PrivateDnsName))
	}
	status, err = client.DescribeInstanceStatus(ctx(t), &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}})
	must(t, err)
	if st := status.InstanceStatuses[0]; st.InstanceStatus.Status != types.SummaryStatusOk || st.SystemStatus.Status != types.SummaryStatusOk {
		t.Errorf("status checks of a booted machine: %s/%s", st.InstanceStatus.Status, st.SystemStatus.Status)
	}
	m := host.machine(t, id)
	addr := m.Address()
	m.write("/home/admin/kept", "yes")

	_, err = client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	in = waitFor(t, client, id, "stopped")
	if m.currentState() != "stopped" || aws.ToString(in.PublicIpAddress) != "" || aws.ToString(in.PrivateIpAddress) != addr {
		t.Errorf("stopped: machine %s, public %q, private %q (want %s)", m.currentState(), aws.ToString(in.PublicIpAddress), aws.ToString(in.PrivateIpAddress), addr)
	}

	_, err = client.StartInstances(ctx(t), &ec2.StartInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	if st := describeInstance(t, client, id).State.Name; st != types.InstanceStateNamePending {
		t.Errorf("state %s right after StartInstances, want pending", st)
	}
	in = waitFor(t, client, id, "running")
	if aws.ToString(in.PublicIpAddress) != addr || m.file("/home/admin/kept") != "yes" {
		t.Errorf("started again: address %s (want %s), file %q", aws.ToString(in.PublicIpAddress), addr, m.file("/home/admin/kept"))
	}

	_, err = client.RebootInstances(ctx(t), &ec2.RebootInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	eventually(t, "the reboot", func() bool { return slices.Contains(m.callLog(), "reboot") })
	if st := describeInstance(t, client, id).State.Name; st != types.InstanceStateNameRunning || m.file("/home/admin/kept") != "yes" {
		t.Errorf("after reboot: %s, file %q", st, m.file("/home/admin/kept"))
	}

	_, err = client.TerminateInstances(ctx(t), &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	in = waitFor(t, client, id, "terminated")
	if m.currentState() != "terminated" || aws.ToString(in.PrivateIpAddress) != "" {
		t.Errorf("terminated: machine %s, address %q", m.currentState(), aws.ToString(in.PrivateIpAddress))
	}
	if got, want := m.callLog(), []string{"stop", "start", "reboot", "terminate"}; !slices.Equal(withoutIngress(got), want) {
		t.Errorf("host calls %v, want %v", got, want)
	}
	_, err = client.RebootInstances(ctx(t), &ec2.RebootInstancesInput{InstanceIds: []string{id}})
	wantCode(t, err, "IncorrectInstanceState")
}

func withoutIngress(calls []string) []string {
	return slices.DeleteFunc(slices.Clone(calls), func(c string) bool { return c == "ingress" })
}

func TestStopRightAfterLaunchAndFailedBoot(t *testing.T) {
	host := newFakeHost("debian-12")
	s := startMachineSim(t, host)
	const region = "us-east-1"
	client := newEC2(s, region)
	ami := paramValue(t, s, region, debian12Param)

	// Asked for at once, the host calls still come in order: boot, then stop.
	id := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(ami)}).InstanceId)
	_, err := client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	waitFor(t, client, id, "stopped")
	if got := withoutIngress(host.machine(t, id).callLog()); !slices.Equal(got, []string{"stop"}) {
		t.Errorf("host calls %v, want [stop]", got)
	}

	host.mu.Lock()
	host.failBoot = true
	host.mu.Unlock()
	id = aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(ami)}).InstanceId)
	in := waitFor(t, client, id, "terminated")
	if in.StateReason == nil || aws.ToString(in.StateReason.Code) != "Server.InternalError" {
		t.Errorf("a machine that failed to boot: state reason %+v", in.StateReason)
	}
}

func TestCreateImageCapturesTheDisk(t *testing.T) {
	host := newFakeHost("ubuntu-22.04")
	s := startMachineSim(t, host)
	const region, other = "us-east-1", "us-west-2"
	client, otherClient := newEC2(s, region), newEC2(s, other)
	base := paramValue(t, s, region, jammyParam)
	builder := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(base)}).InstanceId)
	waitFor(t, client, builder, "running")
	m := host.machine(t, builder)
	m.write("/etc/golden", "hardened")

	// Without NoReboot the machine is shut down for the capture and booted again.
	created, err := client.CreateImage(ctx(t), &ec2.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("golden-1")})
	must(t, err)
	img := waitImage(t, client, aws.ToString(created.ImageId))
	if got := withoutIngress(m.callLog()); !slices.Equal(got, []string{"stop", "capture", "start"}) {
		t.Errorf("CreateImage made the host calls %v, want stop, capture, start", got)
	}
	layers := host.liveLayers()
	if len(layers) != 1 {
		t.Fatalf("layers after one capture: %v", layers)
	}
	first := layers[0]
	snap := aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId)
	snaps, err := client.DescribeSnapshots(ctx(t), &ec2.DescribeSnapshotsInput{SnapshotIds: []string{snap}})
	must(t, err)
	if snaps.Snapshots[0].State != types.SnapshotStateCompleted {
		t.Errorf("snapshot of an available image is %s", snaps.Snapshots[0].State)
	}

	// With NoReboot the disk is captured live.
	second, err := client.CreateImage(ctx(t), &ec2.CreateImageInput{InstanceId: aws.String(builder), Name: aws.String("golden-live"), NoReboot: aws.Bool(true)})
	must(t, err)
	waitImage(t, client, aws.ToString(second.ImageId))
	if got := withoutIngress(m.callLog()); !slices.Equal(got, []string{"stop", "capture", "start", "capture"}) {
		t.Errorf("CreateImage with NoReboot: host calls %v", got)
	}

	// The new AMI boots what the build left on disk, base and layer.
	validator := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: created.ImageId}).InstanceId)
	waitFor(t, client, validator, "running")
	v := host.machine(t, validator)
	if v.spec.Base != "ubuntu-22.04" || !slices.Equal(v.spec.Layers, []string{first}) || v.file("/etc/golden") != "hardened" {
		t.Fatalf("the new AMI booted %s %v with /etc/golden %q", v.spec.Base, v.spec.Layers, v.file("/etc/golden"))
	}
	// An image of that machine stacks its layer over the first.
	v.write("/etc/validated", "yes")
	third, err := client.CreateImage(ctx(t), &ec2.CreateImageInput{InstanceId: aws.String(validator), Name: aws.String("golden-2"), NoReboot: aws.Bool(true)})
	must(t, err)
	waitImage(t, client, aws.ToString(third.ImageId))

	// A copy in another region shares the layer.
	copied, err := otherClient.CopyImage(ctx(t), &ec2.CopyImageInput{SourceImageId: created.ImageId, SourceRegion: aws.String(region), Name: aws.String("golden-1")})
	must(t, err)
	copyImg := waitImage(t, otherClient, aws.ToString(copied.ImageId))
	if n := len(host.liveLayers()); n != 3 {
		t.Fatalf("a copy made a layer of its own: %d layers", n)
	}

	// Deregistering and deleting the original frees nothing while the copy, the machine booted
	// from it and the stacked image use the layer.
	deleteImage(t, client, aws.ToString(created.ImageId), snap)
	if got := host.releasedLayers(); len(got) != 0 {
		t.Fatalf("released %v while still in use", got)
	}
	deleteImage(t, client, aws.ToString(second.ImageId), "")
	if got := host.releasedLayers(); len(got) != 1 || got[0] == first {
		t.Fatalf("the NoReboot image's own layer: released %v", got)
	}
	_, err = client.TerminateInstances(ctx(t), &ec2.TerminateInstancesInput{InstanceIds: []string{validator}})
	must(t, err)
	waitFor(t, client, validator, "terminated")
	deleteImage(t, otherClient, aws.ToString(copied.ImageId), aws.ToString(copyImg.BlockDeviceMappings[0].Ebs.SnapshotId))
	if slices.Contains(host.releasedLayers(), first) {
		t.Fatal("released the first layer while the stacked image still uses it")
	}
	deleteImage(t, client, aws.ToString(third.ImageId), "")
	eventually(t, "every layer released", func() bool { return len(host.liveLayers()) == 0 })
	if got := host.releasedLayers(); len(got) != 3 {
		t.Errorf("released %v: each layer once", got)
	}
}

// deleteImage deregisters an image and deletes its root snapshot (looked up when snap is "").
func deleteImage(t *testing.T, client *ec2.Client, imageID, snap string) {
	t.Helper()
	if snap == "" {
		out, err := client.DescribeImages(ctx(t), &ec2.DescribeImagesInput{ImageIds: []string{imageID}})
		must(t, err)
		snap = aws.ToString(out.Images[0].BlockDeviceMappings[0].Ebs.SnapshotId)
	}
	_, err := client.DeregisterImage(ctx(t), &ec2.DeregisterImageInput{ImageId: aws.String(imageID)})
	must(t, err)
	_, err = client.DeleteSnapshot(ctx(t), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	must(t, err)
}

func TestConsoleOutputIsTheMachines(t *testing.T) {
	host := newFakeHost("debian-12")
	s := startMachineSim(t, host)
	const region = "us-east-1"
	client := newEC2(s, region)
	id := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(paramValue(t, s, region, debian12Param))}).InstanceId)
	waitFor(t, client, id, "running")
	for _, latest := range []bool{false, true} {
		out, err := client.GetConsoleOutput(ctx(t), &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(latest)})
		must(t, err)
		text, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
		must(t, err)
		if string(text) != "[    0.000000] Linux version 6.1.0 (fake)\nbooted "+id+"\n" || aws.ToString(out.InstanceId) != id || out.Timestamp == nil {
			t.Errorf("console output (latest %v): %q", latest, text)
		}
	}
}

func TestSecurityGroupsReachTheMachine(t *testing.T) {
	host := newFakeHost("debian-12")
	s := startMachineSim(t, host)
	const region = "us-east-1"
	client := newEC2(s, region)
	newGroup := func(name string) string {
		out, err := client.CreateSecurityGroup(ctx(t), &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
		must(t, err)
		return aws.ToString(out.GroupId)
	}
	sshRule := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []types.IpRange{{CidrIp: aws.String("198.51.100.7/32")}}}
	ssh := newGroup("ssh")
	_, err := client.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(ssh), IpPermissions: []types.IpPermission{sshRule}})
	must(t, err)
	id := aws.ToString(launch(t, client, &ec2.RunInstancesInput{ImageId: aws.String(paramValue(t, s, region, debian12Param)), SecurityGroupIds: []string{ssh}}).InstanceId)
	waitFor(t, client, id, "running")
	m := host.machine(t, id)
	want := []ec2sim.IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"198.51.100.7/32"}}}
	if !rulesEqual(m.spec.Ingress, want) {
		t.Fatalf("booted with ingress %+v, want %+v", m.spec.Ingress, want)
	}

	// Each change applies before the call returns.
	web := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80),
		IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
	_, err = client.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(ssh), IpPermissions: []types.IpPermission{web}})
	must(t, err)
	if got := m.rules(); !rulesEqual(got, append(want, ec2sim.IngressRule{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []string{"0.0.0.0/0"}})) {
		t.Errorf("after authorize: %+v", got)
	}
	_, err = client.RevokeSecurityGroupIngress(ctx(t), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(ssh), IpPermissions: []types.IpPermission{sshRule}})
	must(t, err)
	if got := m.rules(); !rulesEqual(got, []ec2sim.IngressRule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []string{"0.0.0.0/0"}}}) {
		t.Errorf("after revoke: %+v", got)
	}
	revoked, err := client.RevokeSecurityGroupIngress(ctx(t), &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(ssh), IpPermissions: []types.IpPermission{sshRule}})
	must(t, err)
	if len(revoked.UnknownIpPermissions) != 1 {
		t.Errorf("revoking a rule the group lacks: unknown permissions %+v", revoked.UnknownIpPermissions)
	}

	// Another group by ModifyInstanceAttribute; a group as source stands for its machines.
	peers := newGroup("peers")
	_, err = client.AuthorizeSecurityGroupIngress(ctx(t), &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(peers),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(peers)}}}}})
	must(t, err)
	_, err = client.ModifyInstanceAttribute(ctx(t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: []string{peers}})
	must(t, err)
	if got := m.rules(); !rulesEqual(got, []ec2sim.IngressRule{{Protocol: "-1", CIDRs: []string{m.Address() + "/32"}}}) {
		t.Errorf("after ModifyInstanceAttribute: %+v", got)
	}
	if g := describeInstance(t, client, id).SecurityGroups; len(g) != 1 || aws.ToString(g[0].GroupId) != peers {
		t.Errorf("DescribeInstances reports groups %+v", g)
	}

	// A change while the machine is stopped reaches it when it starts again.
	_, err = client.StopInstances(ctx(t), &ec2.StopInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	waitFor(t, client, id, "stopped")
	_, err = client.ModifyInstanceAttribute(ctx(t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: []string{ssh}})
	must(t, err)
	_, err = client.StartInstances(ctx(t), &ec2.StartInstancesInput{InstanceIds: []string{id}})
	must(t, err)
	waitFor(t, client, id, "running")
	if got := m.rules(); !rulesEqual(got, []ec2sim.IngressRule{{Protocol: "tcp", FromPort: 80, ToPort: 80, CIDRs: []string{"0.0.0.0/0"}}}) {
		t.Errorf("after a change while stopped and a start: %+v", got)
	}
	_, err = client.ModifyInstanceAttribute(ctx(t), &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: []string{"sg-0123456789abcdef0"}})
	wantCode(t, err, "InvalidGroup.NotFound")
}

func rulesEqual(a, b []ec2sim.IngressRule) bool {
	return slices.EqualFunc(a, b, func(x, y ec2sim.IngressRule) bool {
		return x.Protocol == y.Protocol && x.FromPort == y.FromPort && x.ToPort == y.ToPort && slices.Equal(x.CIDRs, y.CIDRs)
	})
}
