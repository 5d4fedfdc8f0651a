package lab

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine"
)

// Instance is an instance a test launched through the AWS SDK on the simulator, on a lab machine,
// and logged in to as an EC2 user does: with a key pair of its own, through a security group that
// lets the lab's host in, the host key checked against the keys cloud-init printed on the console.
type Instance struct {
	ID, Address, User string
	// AuthorizedKey is the public key of the instance's key pair, in authorized_keys form.
	AuthorizedKey string

	config *ssh.ClientConfig
}

// LaunchInstance runs one t3.micro of ami as user (the image's default user) and waits until SSH
// lets the key in. The instance, its group and key pair are deleted when the test ends.
func LaunchInstance(t *testing.T, sim *ec2sim.Server, ami, user string) *Instance {
	t.Helper()
	client := SimEC2(sim)
	ctx, cancel := context.WithTimeout(context.Background(), machineWait)
	defer cancel()
	suffix := randomSuffix(t)

	_, signer := newKeyPair(t)
	public := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	keyName := "e2e-" + suffix
	if _, err := client.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(keyName), PublicKeyMaterial: []byte(public)}); err != nil {
		t.Fatalf("ImportKeyPair: %v", err)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteKeyPair(context.Background(), &ec2.DeleteKeyPairInput{KeyName: aws.String(keyName)}); err != nil {
			t.Errorf("DeleteKeyPair %s: %v", keyName, err)
		}
	})
	group, err := client.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("e2e-" + suffix), Description: aws.String("SSH from the lab's host"),
	})
	if err != nil {
		t.Fatalf("CreateSecurityGroup: %v", err)
	}
	groupID := aws.ToString(group.GroupId)
	if _, err := client.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(groupID),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []types.IpRange{{CidrIp: aws.String(labmachine.CallerCIDR())}}}},
	}); err != nil {
		t.Fatalf("AuthorizeSecurityGroupIngress: %v", err)
	}
	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(ami), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String(keyName), SecurityGroupIds: []string{groupID},
	})
	if err != nil {
		t.Fatalf("RunInstances of %s: %v", ami, err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	// Cleanups run last in, first out: the instance goes before its group and key pair.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), machineWait)
		defer cancel()
		if _, err := client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Errorf("TerminateInstances %s: %v", id, err)
			return
		}
		if err := ec2.NewInstanceTerminatedWaiter(client, func(o *ec2.InstanceTerminatedWaiterOptions) {
			o.MinDelay, o.MaxDelay = time.Second, time.Second
		}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, machineWait); err != nil {
			t.Errorf("waiting for %s to terminate: %v", id, err)
			return
		}
		if _, err := client.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(groupID)}); err != nil {
			t.Errorf("DeleteSecurityGroup %s: %v", groupID, err)
		}
	})
	out, err := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, time.Second
	}).WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, machineWait)
	if err != nil {
		t.Fatalf("waiting for %s (of %s) to run: %v", id, ami, err)
	}
	in := &Instance{ID: id, Address: aws.ToString(out.Reservations[0].Instances[0].PublicIpAddress), User: user, AuthorizedKey: public}

	// cloud-init prints the host keys it made once the instance has its key; SSH answers then.
	for {
		err := in.connect(ctx, client, signer)
		if err == nil {
			return in
		}
		if ctx.Err() != nil {
			t.Fatalf("no SSH to %s (%s, of %s) within %s: %v\nconsole:\n%s", id, in.Address, ami, machineWait, err, consoleTail(client, id))
		}
		time.Sleep(time.Second)
	}
}

// connect reads the host keys from the console and logs in once.
func (in *Instance) connect(ctx context.Context, client *ec2.Client, signer ssh.Signer) error {
	console, err := client.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(in.ID), Latest: aws.Bool(true)})
	if err != nil {
		return err
	}
	text, err := base64.StdEncoding.DecodeString(aws.ToString(console.Output))
	if err != nil {
		return fmt.Errorf("console output of %s: %w", in.ID, err)
	}
	keys, err := labmachine.HostKeysFromConsole(text)
	if err != nil {
		return err
	}
	in.config = &ssh.ClientConfig{
		User: in.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: labmachine.HostKeyCallback(keys), Timeout: 10 * time.Second,
	}
	_, err = in.Run("true")
	return err
}

func consoleTail(client *ec2.Client, id string) string {
	out, err := client.GetConsoleOutput(context.Background(), &ec2.GetConsoleOutputInput{InstanceId: aws.String(id)})
	if err != nil {
		return err.Error()
	}
	text, _ := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	return strings.Join(lines, "\n")
}

// Run runs cmd on the instance over a new SSH connection and returns its combined output.
func (in *Instance) Run(cmd string) (string, error) {
	c, err := ssh.Dial("tcp", net.JoinHostPort(in.Address, "22"), in.config)
	if err != nil {
		return "", fmt.Errorf("ssh to %s@%s: %w", in.User, in.Address, err)
	}
	return runAndClose(c, cmd)
}

// MustRun is Run that fails the test when the command cannot run or exits non-zero.
func (in *Instance) MustRun(t *testing.T, cmd string) string {
	t.Helper()
	out, err := in.Run(cmd)
	if err != nil {
		t.Fatalf("on %s: %s: %v\n%s", in.ID, cmd, err, out)
	}
	return out
}
