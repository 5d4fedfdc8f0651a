package e2e

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// machineOSes are the base images the machine tests boot: by default only ubuntu-22.04 (the
// seed pipeline's OS), which keeps `make test` short; GOLDEN_LAB_OSES names others, as for the
// lab's other machine suites. TestInstanceBaseImages boots each of them, the other tests the first.
func machineOSes(host *labmachine.Host) []string {
	return lab.MachineOSes(host, "ubuntu-22.04")
}

// machineSim is a simulator whose instances are lab machines, with SDK clients for it.
type machineSim struct {
	sim  *ec2sim.Server
	host *labmachine.Host
	ec2  *ec2.Client
	ssm  *ssm.Client
	// noCleanup: the test ends the simulator itself (instances are not terminated at its end).
	noCleanup bool
}

func newMachineSim(t *testing.T) *machineSim {
	t.Helper()
	host := lab.Machines(t)
	sim := ec2sim.StartTest(t, ec2sim.Options{Machines: host})
	cfg := aws.Config{
		Region:       lab.SimRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(lab.SimAccessKeyID, lab.SimSecretAccessKey, ""),
		BaseEndpoint: aws.String(sim.URL()),
	}
	return &machineSim{sim: sim, host: host, ec2: lab.SimEC2(sim), ssm: ssm.NewFromConfig(cfg)}
}

// vendorAMI resolves the vendor's public SSM parameter of os, as a template's source_ami_filter
// or SSM lookup would.
func (ms *machineSim) vendorAMI(ctx context.Context, t *testing.T, base string) string {
	t.Helper()
	param, ok := lab.VendorImageParams[base]
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
		if ms.noCleanup {
			return
		}
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

// newKey is a key pair the instance was not launched with.
func newKey(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// TestInstanceBaseImages launches each base image (machineOSes) with a fresh key pair and
// HttpTokens=required, golden-ebs's default: SSH as the vendor's default user with the launch key
// works (so the real cloud-init identified EC2 and read the key with an IMDSv2 token), another key
// is refused; from inside, a token-less metadata read is refused with 401 and one with a session
// token works; once ModifyInstanceMetadataOptions makes tokens optional, the token-less read
// works too.
func TestInstanceBaseImages(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	ms := newMachineSim(t)
	for _, base := range machineOSes(ms.host) {
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 2*machineBootTimeout)
			defer cancel()
			in := ms.launch(ctx, t, launchSpec{
				ami: ms.vendorAMI(ctx, t, base), key: ms.createKeyPair(ctx, t),
				group: ms.sshGroup(ctx, t, labmachine.CallerCIDR()), tokens: types.HttpTokensStateRequired,
			})
			user := lab.VendorUsers[base]
			c := ms.mustDial(ctx, t, in, user)
			if got := strings.TrimSpace(mustSSHRun(t, c, "id -un && sudo -n id -un")); got != user+"\nroot" {
				t.Errorf("id -un && sudo -n id -un: %q, want %s and passwordless sudo", got, user)
			}
			if _, err := ms.dialOnce(ctx, in, user, newKey(t)); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
				t.Errorf("SSH as %s with a key the instance was not launched with: %v, want an authentication failure", user, err)
			}
			if got := metadataStatus(t, c); got != "401" {
				t.Errorf("token-less metadata GET with HttpTokens=required answered %s, want 401", got)
			}
			got := strings.TrimSpace(mustSSHRun(t, c, `t=$(curl -s --max-time 10 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) && `+
				`curl -s --max-time 10 -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/instance-id`))
			if got != in.id {
				t.Errorf("metadata GET with a session token answered %q, want the instance id %s", got, in.id)
			}
			if cloud := strings.TrimSpace(mustSSHRun(t, c, "sudo cloud-init query cloud_name")); cloud != "aws" {
				t.Errorf("cloud-init's cloud_name is %q, want aws", cloud)
			}
			if _, err := ms.ec2.ModifyInstanceMetadataOptions(ctx, &ec2.ModifyInstanceMetadataOptionsInput{
				InstanceId: aws.String(in.id), HttpTokens: types.HttpTokensStateOptional,
			}); err != nil {
				t.Fatalf("ModifyInstanceMetadataOptions: %v", err)
			}
			if got := metadataStatus(t, c); got != "200" {
				t.Errorf("token-less metadata GET with HttpTokens=optional answered %s, want 200", got)
			}
		})
	}
}

// bootID is the machine's boot id: it changes with every boot.
func bootID(t *testing.T, c *ssh.Client) string {
	t.Helper()
	return strings.TrimSpace(mustSSHRun(t, c, "cat /proc/sys/kernel/random/boot_id"))
}

// sshPortFilteredFor dials port 22 of the instance once and reports whether the attempt timed out
// (a security group without the caller's address drops the packets; nothing answers).
func sshPortFilteredFor(address string, timeout time.Duration) (bool, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(address, "22"), timeout)
	if err == nil {
		c.Close()
		return false, nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, nil
	}
	return false, err
}

// TestInstanceDiskLifecycle follows one instance's disk: a file written over SSH survives
// RebootInstances and StopInstances/StartInstances (new boot ids, same disk); GetConsoleOutput
// has the boot log; a security group without the host's address makes SSH time out and the old
// group lets it in again; CreateImage of the stopped instance, RunInstances of the new AMI with
// another key pair: after a real boot the file is there, and the first instance's machine is gone
// once it is terminated.
func TestInstanceDiskLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	ms := newMachineSim(t)
	base := machineOSes(ms.host)[0]
	user := lab.VendorUsers[base]
	ctx, cancel := context.WithTimeout(t.Context(), 6*machineBootTimeout)
	defer cancel()
	sshOpen := ms.sshGroup(ctx, t, labmachine.CallerCIDR())
	first := ms.launch(ctx, t, launchSpec{ami: ms.vendorAMI(ctx, t, base), key: ms.createKeyPair(ctx, t), group: sshOpen})
	c := ms.mustDial(ctx, t, first, user)
	mark := fmt.Sprintf("written on %s at %d", first.id, time.Now().UnixNano())
	mustSSHRun(t, c, "echo '"+mark+"' | sudo tee /var/lib/e2e-mark >/dev/null && sync")
	boot := bootID(t, c)

	console, err := ms.consoleOutput(ctx, first.id)
	if err != nil {
		t.Fatalf("GetConsoleOutput: %v", err)
	}
	// cloud-init's lines, the host keys it printed, the name it gave the machine from the metadata.
	for _, want := range []string{"Cloud-init v.", "-----BEGIN SSH HOST KEY KEYS-----", "ip-" + strings.ReplaceAll(first.address, ".", "-")} {
		if !strings.Contains(string(console), want) {
			t.Errorf("console output lacks %q", want)
		}
	}

	// RebootInstances: the same disk, a new boot.
	if _, err := ms.ec2.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: []string{first.id}}); err != nil {
		t.Fatalf("RebootInstances: %v", err)
	}
	c = ms.waitNewBoot(ctx, t, first, user, boot)
	if got := strings.TrimSpace(mustSSHRun(t, c, "cat /var/lib/e2e-mark")); got != mark {
		t.Errorf("after the reboot the file holds %q, want %q", got, mark)
	}
	boot = bootID(t, c)

	// StopInstances, StartInstances: the same disk, the same address.
	c.Close()
	ms.stop(ctx, t, first.id)
	if _, err := ms.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{first.id}}); err != nil {
		t.Fatalf("StartInstances: %v", err)
	}
	if addr := aws.ToString(ms.waitRunning(ctx, t, first.id).PublicIpAddress); addr != first.address {
		t.Errorf("after stop/start the instance is at %s, was at %s", addr, first.address)
	}
	c = ms.waitNewBoot(ctx, t, first, user, boot)
	if got := strings.TrimSpace(mustSSHRun(t, c, "cat /var/lib/e2e-mark")); got != mark {
		t.Errorf("after stop/start the file holds %q, want %q", got, mark)
	}
	c.Close()

	// A group open only to an address that is not the host's: the SSH port times out.
	elsewhere := ms.sshGroup(ctx, t, "192.0.2.0/24")
	ms.setGroups(ctx, t, first.id, elsewhere)
	if filtered, err := sshPortFilteredFor(first.address, 5*time.Second); !filtered {
		t.Errorf("SSH behind a group without the host's address: %v, want a timeout", err)
	}
	ms.setGroups(ctx, t, first.id, sshOpen)
	c = ms.mustDial(ctx, t, first, user)
	c.Close()

	// CreateImage of the stopped instance, as a builder does it.
	ms.stop(ctx, t, first.id)
	img, err := ms.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(first.id), Name: aws.String(fmt.Sprintf("e2e-%d", time.Now().UnixNano()))})
	if err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	ami := aws.ToString(img.ImageId)
	if err := ec2.NewImageAvailableWaiter(ms.ec2, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 2*time.Second
	}).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}}, 5*time.Minute); err != nil {
		t.Fatalf("waiting for %s: %v", ami, err)
	}
	second := ms.launch(ctx, t, launchSpec{ami: ami, key: ms.createKeyPair(ctx, t), group: sshOpen})
	c2 := ms.mustDial(ctx, t, second, user)
	if got := strings.TrimSpace(mustSSHRun(t, c2, "cat /var/lib/e2e-mark")); got != mark {
		t.Errorf("an instance of the new image has %q in the file, want %q", got, mark)
	}
	if got := strings.TrimSpace(mustSSHRun(t, c2, "curl -s --max-time 10 http://169.254.169.254/latest/meta-data/instance-id")); got != second.id {
		t.Errorf("the new instance's metadata says it is %q, want %s", got, second.id)
	}
	// As on EC2, cloud-init adds the new launch key and keeps what the image's authorized_keys
	// had: the first key still logs in (which is why a builder removes its temporary key before
	// CreateImage).
	if c, err := ms.dialOnce(ctx, second, user, first.key.signer); err != nil {
		t.Errorf("the key baked into the image does not log in to an instance of it: %v", err)
	} else {
		c.Close()
	}

	if _, err := ms.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{first.id}}); err != nil {
		t.Fatalf("TerminateInstances: %v", err)
	}
	if err := ec2.NewInstanceTerminatedWaiter(ms.ec2, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 2*time.Second
	}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{first.id}}, 5*time.Minute); err != nil {
		t.Fatalf("waiting for %s to terminate: %v", first.id, err)
	}
	if left := machineTraces(t, first.id); len(left) > 0 {
		t.Errorf("the terminated instance's machine is still there:\n%s", strings.Join(left, "\n"))
	}
	if got := strings.TrimSpace(mustSSHRun(t, c2, "cat /var/lib/e2e-mark")); got != mark {
		t.Errorf("after the first instance was terminated, the second one's file holds %q", got)
	}
}

// waitNewBoot logs in again once the instance runs a boot other than the one with id old.
func (ms *machineSim) waitNewBoot(ctx context.Context, t *testing.T, in instance, user, old string) *ssh.Client {
	t.Helper()
	deadline := time.Now().Add(machineBootTimeout)
	for {
		c, err := ms.dial(ctx, in, user, in.key.signer, time.Until(deadline))
		if err != nil {
			t.Fatal(err)
		}
		// A connection made just before the old boot shuts down loses its session: not yet.
		out, err := sshRun(c, "cat /proc/sys/kernel/random/boot_id")
		if id := strings.TrimSpace(out); err == nil && id != old {
			t.Cleanup(func() { c.Close() })
			return c
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still runs boot %s (last answer %q, %v)", in.id, old, strings.TrimSpace(out), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (ms *machineSim) stop(ctx context.Context, t *testing.T, id string) {
	t.Helper()
	if _, err := ms.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatalf("StopInstances: %v", err)
	}
	if err := ec2.NewInstanceStoppedWaiter(ms.ec2, func(o *ec2.InstanceStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 2*time.Second
	}).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 5*time.Minute); err != nil {
		t.Fatalf("waiting for %s to stop: %v", id, err)
	}
}

func (ms *machineSim) setGroups(ctx context.Context, t *testing.T, id string, groups ...string) {
	t.Helper()
	if _, err := ms.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: groups}); err != nil {
		t.Fatalf("ModifyInstanceAttribute Groups: %v", err)
	}
}

// TestInstancesInParallel launches four instances in one RunInstances: four machines run at once,
// each at its own address, each letting in the launch key.
func TestInstancesInParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	ms := newMachineSim(t)
	base := machineOSes(ms.host)[0]
	ctx, cancel := context.WithTimeout(t.Context(), 3*machineBootTimeout)
	defer cancel()
	key := ms.createKeyPair(ctx, t)
	out, err := ms.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(ms.vendorAMI(ctx, t, base)), InstanceType: types.InstanceTypeT3Micro,
		MinCount: aws.Int32(4), MaxCount: aws.Int32(4), KeyName: aws.String(key.name),
		SecurityGroupIds: []string{ms.sshGroup(ctx, t, labmachine.CallerCIDR())},
	})
	if err != nil {
		t.Fatalf("RunInstances of 4: %v", err)
	}
	ids := make([]string, len(out.Instances))
	for i, in := range out.Instances {
		ids[i] = aws.ToString(in.InstanceId)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := ms.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			t.Errorf("TerminateInstances: %v", err)
		}
	})
	w := ec2.NewInstanceRunningWaiter(ms.ec2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 2*time.Second
	})
	running, err := w.WaitForOutput(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, machineBootTimeout)
	if err != nil {
		t.Fatalf("waiting for 4 instances to run: %v", err)
	}
	type result struct {
		id, address, hostname string
		err                   error
	}
	results := make(chan result, len(ids))
	for _, r := range running.Reservations {
		for _, in := range r.Instances {
			go func() {
				inst := instance{id: aws.ToString(in.InstanceId), address: aws.ToString(in.PublicIpAddress), key: key}
				c, err := ms.dial(ctx, inst, lab.VendorUsers[base], key.signer, machineBootTimeout)
				if err != nil {
					results <- result{id: inst.id, err: err}
					return
				}
				defer c.Close()
				out, err := sshRun(c, "hostname")
				results <- result{id: inst.id, address: inst.address, hostname: strings.TrimSpace(out), err: err}
			}()
		}
	}
	addresses, hostnames := map[string]bool{}, map[string]bool{}
	for range ids {
		r := <-results
		if r.err != nil {
			t.Errorf("%s: %v", r.id, r.err)
			continue
		}
		addresses[r.address], hostnames[r.hostname] = true, true
	}
	if !t.Failed() && (len(addresses) != 4 || len(hostnames) != 4) {
		t.Errorf("four instances answered from addresses %v with hostnames %v, want four of each", addresses, hostnames)
	}
}

// labDir is the lab's state folder the machines live in.
func labDir(t *testing.T) string {
	if d := os.Getenv("GOLDEN_LAB_DIR"); d != "" {
		return d
	}
	return filepath.Join(lab.RepoRoot(t), ".lab")
}

// machineTraces lists what the lab still has of an instance's machine: its folder, mounts below
// it, its address slot's veth, nft table and record (unless the slot is another machine's by
// now), and processes (nspawn, supervisor, DHCP server, proxy) naming its folder.
func machineTraces(t *testing.T, instanceID string) []string {
	var left []string
	dirs, _ := filepath.Glob(filepath.Join(labDir(t), "targets", "m*-"+strings.ToLower(instanceID)))
	for _, dir := range dirs {
		left = append(left, "machine folder "+dir)
	}
	return append(left, folderTraces(dirs, "")...)
}

// folderTraces lists mounts and processes naming any of the folders, and the network of slot
// (when not empty and not claimed by another machine).
func folderTraces(dirs []string, slot string) []string {
	var left []string
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, dir := range dirs {
		if strings.Contains(string(mounts), dir) {
			left = append(left, "a mount below "+dir)
		}
		for _, p := range procs {
			data, _ := os.ReadFile(p)
			if cmdline := strings.ReplaceAll(string(data), "\x00", " "); strings.Contains(cmdline, dir) {
				left = append(left, "process "+filepath.Base(filepath.Dir(p))+": "+cmdline)
			}
		}
	}
	if slot == "" {
		return left
	}
	if rec, err := os.ReadFile("/run/golden-lab/slots/" + slot); err == nil {
		mine := false
		for _, dir := range dirs {
			mine = mine || strings.Contains(string(rec), filepath.Base(dir))
		}
		if !mine {
			return left // the slot was free and another machine has it now
		}
		left = append(left, "slot record "+slot)
	}
	if _, err := os.Stat("/sys/class/net/glab" + slot); err == nil {
		left = append(left, "veth glab"+slot)
	}
	if out, _ := exec.Command("nft", "list", "table", "inet", "golden-lab-"+slot).CombinedOutput(); !strings.Contains(string(out), "No such file") {
		left = append(left, "nft table golden-lab-"+slot)
	}
	return left
}

// TestStandaloneSimulatorWithMachines runs the real `golden-awssim -machines` process, launches
// an instance of it through the SDK, logs in with the launch key, captures a layer with
// CreateImage, then kills the simulator (SIGKILL): the lab must remove its machine and layer,
// leaving no machine folder, mount, process (nspawn, DHCP server, proxy), veth, nft table, slot
// record or layer.
func TestStandaloneSimulatorWithMachines(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	lab.RequireLab(t)
	root := lab.RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "golden-awssim")
	build := exec.Command("go", "build", "-o", bin, "./cmd/golden-awssim")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/golden-awssim: %v\n%s", err, out)
	}
	sim := exec.Command(bin, "-listen", "127.0.0.1:0", "-quiet", "-machines", "-lab-repo", root)
	sim.Stderr = os.Stderr
	stdout, err := sim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = sim.Process.Signal(os.Interrupt)
		}
		_ = sim.Wait()
	})
	url := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "golden-awssim listening on "); ok {
			url = u
		}
		if strings.HasPrefix(sc.Text(), "machines: ") {
			break
		}
	}
	if url == "" {
		t.Fatal("golden-awssim -machines did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	cfg := aws.Config{
		Region:       lab.SimRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(lab.SimAccessKeyID, lab.SimSecretAccessKey, ""),
		BaseEndpoint: aws.String(url),
	}
	ms := &machineSim{ec2: ec2.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), noCleanup: true}
	ctx, cancel := context.WithTimeout(t.Context(), 2*machineBootTimeout)
	defer cancel()
	// No host of this test's own: the standalone simulator boots the machines.
	base := machineOSes(nil)[0]
	in := ms.launch(ctx, t, launchSpec{
		ami: ms.vendorAMI(ctx, t, base), key: ms.createKeyPair(ctx, t),
		group: ms.sshGroup(ctx, t, labmachine.CallerCIDR()), tokens: types.HttpTokensStateRequired,
	})
	c := ms.mustDial(ctx, t, in, lab.VendorUsers[base])
	mustSSHRun(t, c, "echo captured | sudo tee /var/lib/e2e-mark >/dev/null")
	img, err := ms.ec2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(in.id), Name: aws.String("e2e-standalone"), NoReboot: aws.Bool(true)})
	if err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	if err := ec2.NewImageAvailableWaiter(ms.ec2, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 2*time.Second
	}).Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(img.ImageId)}}, 5*time.Minute); err != nil {
		t.Fatalf("waiting for the image: %v", err)
	}
	c.Close()

	dirs, _ := filepath.Glob(filepath.Join(labDir(t), "targets", "m*-"+strings.ToLower(in.id)))
	if len(dirs) != 1 {
		t.Fatalf("the lab has %d folders for %s's machine, want 1", len(dirs), in.id)
	}
	slot, err := os.ReadFile(filepath.Join(dirs[0], "slot"))
	if err != nil {
		t.Fatal(err)
	}
	layers := simLayers(t, sim.Process.Pid)
	if len(layers) != 1 {
		t.Fatalf("the simulator owns layers %v, want the one CreateImage captured", layers)
	}

	killedAt := time.Now()
	killed = true
	if err := sim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = sim.Wait()
	var left []string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		left = append(folderTraces(dirs, strings.TrimSpace(string(slot))), existing(append(dirs, layers...))...)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Fatalf("%s after the simulator was killed, still there:\n%s", time.Since(killedAt).Round(time.Second), strings.Join(left, "\n"))
	}
	t.Logf("everything gone %s after the simulator was killed", time.Since(killedAt).Round(100*time.Millisecond))
}

// simLayers are the layer folders whose owner is the process pid.
func simLayers(t *testing.T, pid int) []string {
	var layers []string
	owners, _ := filepath.Glob(filepath.Join(labDir(t), "layers", "l-*", "owner"))
	for _, o := range owners {
		data, _ := os.ReadFile(o)
		if f := strings.Fields(string(data)); len(f) > 0 && f[0] == strconv.Itoa(pid) {
			layers = append(layers, filepath.Dir(o))
		}
	}
	return layers
}

func existing(paths []string) []string {
	var left []string
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			left = append(left, "folder "+p)
		}
	}
	return left
}
