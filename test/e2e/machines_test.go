package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// The simulator with lab machines, driven only through the real clients: aws-sdk-go-v2 against
// the simulator's endpoint, and SSH (golang.org/x/crypto/ssh) to the address the API reports, as
// a builder meets an EC2 instance.

// machineBootTimeout bounds a launch until SSH answers (the budget is 15 s on a cached image; a
// loaded 2-core CI machine may take much longer, and a first boot builds the image).
const machineBootTimeout = 5 * time.Minute

// vendorImageParams are the public SSM parameters naming each base image's AMI, as the vendors
// publish them.
var vendorImageParams = map[string]string{
	"debian-12":    "/aws/service/debian/release/12/latest/amd64",
	"debian-13":    "/aws/service/debian/release/13/latest/amd64",
	"ubuntu-22.04": "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
	"ubuntu-24.04": "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
	"ubuntu-26.04": "/aws/service/canonical/ubuntu/server/26.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
}

// vendorUsers are the default users of the vendors' EC2 images.
var vendorUsers = map[string]string{
	"debian-12": "admin", "debian-13": "admin",
	"ubuntu-22.04": "ubuntu", "ubuntu-24.04": "ubuntu", "ubuntu-26.04": "ubuntu",
}

// machineOSes are the base images the per-OS machine tests boot: GOLDEN_E2E_MACHINE_OSES, a
// comma-separated list, "all" for the three `make lab` builds, or "every" for all five; by
// default only ubuntu-22.04 (the seed pipeline's OS), which keeps `make test` short.
func machineOSes() []string {
	switch v := os.Getenv("GOLDEN_E2E_MACHINE_OSES"); v {
	case "":
		return []string{"ubuntu-22.04"}
	case "all":
		return []string{"debian-12", "ubuntu-22.04", "ubuntu-24.04"}
	case "every":
		return []string{"debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04", "ubuntu-26.04"}
	default:
		return strings.Split(v, ",")
	}
}

// machineSim is a simulator whose instances are lab machines, with SDK clients for it.
type machineSim struct {
	sim  *ec2sim.Server
	host *labmachine.Host
	ec2  *ec2.Client
	ssm  *ssm.Client
}

func newMachineSim(t *testing.T) *machineSim {
	t.Helper()
	lab.RequireLab(t)
	host, err := labmachine.New(labmachine.Options{RepoRoot: lab.RepoRoot(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := host.Close(); err != nil {
			t.Errorf("closing the lab's machines: %v", err)
		}
	})
	sim := ec2sim.StartTest(t, ec2sim.Options{Machines: host})
	cfg := aws.Config{
		Region:       lab.SimRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(lab.SimAccessKeyID, lab.SimSecretAccessKey, ""),
		BaseEndpoint: aws.String(sim.URL()),
	}
	return &machineSim{sim: sim, host: host, ec2: ec2.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg)}
}

// vendorAMI resolves the vendor's public SSM parameter of os, as a template's source_ami_filter
// or SSM lookup would.
func (ms *machineSim) vendorAMI(ctx context.Context, t *testing.T, base string) string {
	t.Helper()
	param, ok := vendorImageParams[base]
	if !ok {
		t.Fatalf("no vendor image parameter for %q", base)
	}
	out, err := ms.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param)})
	if err != nil {
		t.Fatalf("GetParameter %s: %v", param, err)
	}
	return aws.ToString(out.Parameter.Value)
}

// keyPair is one made by CreateKeyPair, with its private key as EC2 hands it out once.
type keyPair struct {
	name   string
	signer ssh.Signer
}

func (ms *machineSim) createKeyPair(ctx context.Context, t *testing.T) keyPair {
	t.Helper()
	name := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	out, err := ms.ec2.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(name), KeyType: types.KeyTypeEd25519})
	if err != nil {
		t.Fatalf("CreateKeyPair: %v", err)
	}
	signer, err := ssh.ParsePrivateKey([]byte(aws.ToString(out.KeyMaterial)))
	if err != nil {
		t.Fatalf("the key material of %s: %v", name, err)
	}
	return keyPair{name: name, signer: signer}
}

// sshGroup makes a security group that lets SSH in from the given CIDRs only.
func (ms *machineSim) sshGroup(ctx context.Context, t *testing.T, cidrs ...string) string {
	t.Helper()
	out, err := ms.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   aws.String(fmt.Sprintf("e2e-ssh-%d", time.Now().UnixNano())),
		Description: aws.String("SSH from the test"),
	})
	if err != nil {
		t.Fatalf("CreateSecurityGroup: %v", err)
	}
	var ranges []types.IpRange
	for _, c := range cidrs {
		ranges = append(ranges, types.IpRange{CidrIp: aws.String(c)})
	}
	if len(ranges) > 0 {
		_, err = ms.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId: out.GroupId,
			IpPermissions: []types.IpPermission{{
				IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: ranges,
			}},
		})
		if err != nil {
			t.Fatalf("AuthorizeSecurityGroupIngress: %v", err)
		}
	}
	return aws.ToString(out.GroupId)
}

// launchSpec is what one test's RunInstances asks for.
type launchSpec struct {
	ami    string
	key    keyPair
	group  string
	tokens types.HttpTokensState // "" leaves the simulator's (and AWS's) default
}

// instance is a launched instance as the API reports it once it runs.
type instance struct {
	id, address string
	key         keyPair
}

// launch runs one instance, waits with the SDK's waiter until it runs, and terminates it at the
// end of the test.
func (ms *machineSim) launch(ctx context.Context, t *testing.T, spec launchSpec) instance {
	t.Helper()
	in := &ec2.RunInstancesInput{
		ImageId: aws.String(spec.ami), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String(spec.key.name), SecurityGroupIds: []string{spec.group},
	}
	if spec.tokens != "" {
		in.MetadataOptions = &types.InstanceMetadataOptionsRequest{
			HttpTokens: spec.tokens, HttpEndpoint: types.InstanceMetadataEndpointStateEnabled,
		}
	}
	out, err := ms.ec2.RunInstances(ctx, in)
	if err != nil {
		t.Fatalf("RunInstances of %s: %v", spec.ami, err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	t.Cleanup(func() {
		if t.Failed() {
			ms.logConsole(t, id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := ms.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Errorf("TerminateInstances %s: %v", id, err)
		}
	})
	running := ms.waitRunning(ctx, t, id)
	return instance{id: id, address: aws.ToString(running.PublicIpAddress), key: spec.key}
}

func (ms *machineSim) waitRunning(ctx context.Context, t *testing.T, id string) types.Instance {
	t.Helper()
	w := ec2.NewInstanceRunningWaiter(ms.ec2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 2*time.Second
	})
	out, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, machineBootTimeout)
	if err != nil {
		t.Fatalf("waiting for %s to run: %v", id, err)
	}
	return out.Reservations[0].Instances[0]
}

// consoleOutput is GetConsoleOutput, decoded (the API returns base64, as AWS).
func (ms *machineSim) consoleOutput(ctx context.Context, id string) ([]byte, error) {
	out, err := ms.ec2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(id), Latest: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(aws.ToString(out.Output))
}

func (ms *machineSim) logConsole(t *testing.T, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	console, err := ms.consoleOutput(ctx, id)
	if err != nil {
		t.Logf("console output of %s: %v", id, err)
		return
	}
	const keep = 12000
	if len(console) > keep {
		console = console[len(console)-keep:]
	}
	t.Logf("console output of %s (end):\n%s", id, console)
}

// dial logs in to the instance as user with signer, checking the host key against the keys
// cloud-init printed on the console (read with GetConsoleOutput), retrying until the deadline:
// sshd may not be up yet, nor the key installed.
func (ms *machineSim) dial(ctx context.Context, in instance, user string, signer ssh.Signer, timeout time.Duration) (*ssh.Client, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		c, err := ms.dialOnce(ctx, in, user, signer)
		if err == nil {
			return c, nil
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("ssh %s@%s: %w", user, in.address, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (ms *machineSim) dialOnce(ctx context.Context, in instance, user string, signer ssh.Signer) (*ssh.Client, error) {
	console, err := ms.consoleOutput(ctx, in.id)
	if err != nil {
		return nil, err
	}
	keys, err := labmachine.HostKeysFromConsole(console)
	if err != nil {
		return nil, err
	}
	return ssh.Dial("tcp", net.JoinHostPort(in.address, "22"), &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: labmachine.HostKeyCallback(keys), Timeout: 5 * time.Second,
	})
}

func (ms *machineSim) mustDial(ctx context.Context, t *testing.T, in instance, user string) *ssh.Client {
	t.Helper()
	c, err := ms.dial(ctx, in, user, in.key.signer, machineBootTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sshRun runs cmd in a new session and returns its combined output.
func sshRun(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func mustSSHRun(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	out, err := sshRun(c, cmd)
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return out
}

// metadataStatus is the HTTP status of a token-less GET of the instance id, made from inside.
func metadataStatus(t *testing.T, c *ssh.Client) string {
	t.Helper()
	return strings.TrimSpace(mustSSHRun(t, c,
		"curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://169.254.169.254/latest/meta-data/instance-id"))
}

// TestMachineTokensRequired launches each base image with HttpTokens=required, golden-ebs's
// default: the real cloud-init must identify the platform as EC2 and use IMDSv2 tokens to get
// the launch key, or SSH as the vendor's default user fails. A token-less metadata read from
// inside is refused, one with a session token works.
func TestMachineTokensRequired(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	ms := newMachineSim(t)
	for _, base := range machineOSes() {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 2*machineBootTimeout)
			defer cancel()
			in := ms.launch(ctx, t, launchSpec{
				ami: ms.vendorAMI(ctx, t, base), key: ms.createKeyPair(ctx, t),
				group: ms.sshGroup(ctx, t, labmachine.CallerCIDR()), tokens: types.HttpTokensStateRequired,
			})
			c := ms.mustDial(ctx, t, in, vendorUsers[base])
			if got := metadataStatus(t, c); got != "401" {
				t.Errorf("token-less metadata GET with HttpTokens=required answered %s, want 401", got)
			}
			got := strings.TrimSpace(mustSSHRun(t, c, `t=$(curl -s --max-time 10 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) && `+
				`curl -s --max-time 10 -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/instance-id`))
			if got != in.id {
				t.Errorf("metadata GET with a session token answered %q, want the instance id %s", got, in.id)
			}
			// cloud-init saw EC2: it says so in its instance data.
			if cloud := strings.TrimSpace(mustSSHRun(t, c, "sudo cloud-init query cloud_name")); cloud != "aws" {
				t.Errorf("cloud-init's cloud_name is %q, want aws", cloud)
			}
		})
	}
}
