package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
)

const region = "us-east-1"

var fast = ec2sim.Delays{InstancePending: 50 * time.Millisecond, InstanceShuttingDown: 50 * time.Millisecond}

// fastPolling polls every second (the smallest aws_polling.delay_seconds).
var fastPolling = Polling{DelaySeconds: 1}

func newClient(sim *ec2sim.Server) *ec2.Client {
	return ec2.NewFromConfig(aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator", ""),
		BaseEndpoint: aws.String(sim.URL()),
		Retryer:      func() aws.Retryer { return retry.NewStandard() },
	})
}

func newState(t *testing.T, sim *ec2sim.Server) (multistep.StateBag, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	state := new(multistep.BasicStateBag)
	state.Put(stateUI, secretfilter.Ui(&bufferUi{out: &out}))
	state.Put(StateEC2, newClient(sim))
	return state, &out
}

func debianImage(t *testing.T, sim *ec2sim.Server) types.Image {
	t.Helper()
	id, ok := sim.Parameter(region, "/aws/service/debian/release/12/latest/amd64")
	if !ok {
		t.Fatal("simulator has no Debian 12 parameter")
	}
	return types.Image{ImageId: aws.String(id)}
}

// steps are the launch steps in the order a run uses them.
func steps(session Session, comm *communicator.Config, cidrs []string) []multistep.Step {
	return []multistep.Step{
		&StepNetwork{},
		&StepKeyPair{Session: session, Comm: comm},
		&StepSecurityGroup{Session: session, Comm: comm, SourceCIDRs: cidrs, Polling: fastPolling},
		&StepRunInstance{Session: session, Comm: comm, InstanceTypes: []string{"t3.micro"}, Polling: fastPolling,
			MetadataOptions: MetadataOptions{HTTPEndpoint: "enabled", HTTPTokens: "required", HTTPPutResponseHopLimit: 1, InstanceMetadataTags: "disabled"}},
		&StepAuthorizeCaller{Comm: comm},
	}
}

func sshComm() *communicator.Config {
	return &communicator.Config{Type: "ssh", SSH: communicator.SSH{SSHPort: 22, SSHUsername: "admin"}}
}

// TestStepsTagOnCreateAndCleanUp runs the steps, checks what they made, then runs every Cleanup
// and checks that nothing is left.
func TestStepsTagOnCreateAndCleanUp(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast, InstanceAddress: "127.0.0.1"})
	state, out := newState(t, sim)
	state.Put("sim", sim)
	state.Put(StateSourceImage, debianImage(t, sim))
	session := NewSession("golden-test", "b1", time.Hour, map[string]string{"Team": "platform"})
	comm := sshComm()
	runner := &multistep.BasicRunner{Steps: append(steps(session, comm, nil), haltStep{})}
	runner.Run(context.Background(), state)

	// haltStep recorded what existed before the cleanups ran.
	seen := state.Get("seen").(snapshot)
	if len(seen.instances) != 1 || len(seen.keys) != 1 || len(seen.groups) != 1 {
		t.Fatalf("want one instance, key pair and temporary group while running, got %+v\n%s", seen, out)
	}
	for kind, tags := range map[string]map[string]string{"instance": seen.instances[0].Tags, "key pair": seen.keys[0].Tags, "group": seen.groups[0].Tags} {
		if tags[goldentag.BuildID] != "b1" || tags[goldentag.Temporary] != "true" || tags[goldentag.ExpiresAt] == "" || tags["Team"] != "platform" {
			t.Errorf("%s tags = %v", kind, tags)
		}
	}
	for _, v := range seen.instances[0].Volumes {
		if v.Tags[goldentag.Temporary] != "true" {
			t.Errorf("volume %s not tagged on create: %v", v.ID, v.Tags)
		}
	}
	if got := seen.instances[0].MetadataOptions.HTTPTokens; got != "required" {
		t.Errorf("http_tokens = %q", got)
	}
	if !strings.HasPrefix(seen.keys[0].PublicKey, "ssh-ed25519 ") {
		t.Errorf("key pair is not ed25519: %q", seen.keys[0].PublicKey)
	}
	if len(comm.SSHPrivateKey) == 0 || comm.SSHKeyPairName != session.Name() {
		t.Errorf("communicator not given the key: %q", comm.SSHKeyPairName)
	}
	// The caller's address toward the instance (127.0.0.1 in fixed-address mode), only.
	rules := seen.groups[0].Ingress
	if len(rules) != 1 || len(rules[0].CIDRs) != 1 || rules[0].CIDRs[0] != "127.0.0.1/32" || rules[0].FromPort != 22 {
		t.Errorf("ingress = %+v", rules)
	}
	assertNothingLeft(t, sim)
	for _, line := range []string{"to be running: running after", "Deleting temporary security group", "Deleting temporary key pair", "to be terminated"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
}

type snapshot struct {
	instances []ec2sim.Instance
	keys      []ec2sim.KeyPair
	groups    []ec2sim.SecurityGroup
}

// haltStep records the simulator's temporary resources and fails the run, so every Cleanup runs
// as after an error.
type haltStep struct{}

func (haltStep) Run(_ context.Context, state multistep.StateBag) multistep.StepAction {
	sim := state.Get("sim").(*ec2sim.Server)
	state.Put("seen", live(sim))
	state.Put(stateError, context.Canceled)
	return multistep.ActionHalt
}

func (haltStep) Cleanup(multistep.StateBag) {}

func live(sim *ec2sim.Server) snapshot {
	var s snapshot
	for _, in := range sim.Instances(region) {
		if in.State != "terminated" {
			s.instances = append(s.instances, in)
		}
	}
	for _, k := range sim.KeyPairs(region) {
		if k.Tags[goldentag.Temporary] == "true" {
			s.keys = append(s.keys, k)
		}
	}
	for _, g := range sim.SecurityGroups(region) {
		if g.Tags[goldentag.Temporary] == "true" {
			s.groups = append(s.groups, g)
		}
	}
	return s
}

func assertNothingLeft(t *testing.T, sim *ec2sim.Server) {
	t.Helper()
	if s := live(sim); len(s.instances)+len(s.keys)+len(s.groups) > 0 {
		t.Errorf("left behind: %+v", s)
	}
}

// TestCleanupAfterFailureAtEachCall fails each call of the launch in turn and checks that the
// cleanups leave nothing, including after a failed cleanup call (which is retried).
func TestCleanupAfterFailureAtEachCall(t *testing.T) {
	for _, action := range []string{"DescribeSubnets", "ImportKeyPair", "CreateSecurityGroup", "RunInstances",
		"DescribeInstances", "DescribeInstanceStatus", "AuthorizeSecurityGroupIngress",
		"TerminateInstances", "DeleteSecurityGroup", "DeleteKeyPair"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast})
			sim.FailNth(action, 1, "UnauthorizedOperation", "You are not authorized to perform this operation.")
			state, out := newState(t, sim)
			state.Put("sim", sim)
			state.Put(StateSourceImage, debianImage(t, sim))
			session := NewSession("golden-test", "b-"+action, time.Hour, nil)
			runner := &multistep.BasicRunner{Steps: append(steps(session, sshComm(), nil), haltStep{})}
			runner.Run(context.Background(), state)
			if sim.Calls(action) == 0 {
				t.Fatalf("%s was never called:\n%s", action, out)
			}
			assertNothingLeft(t, sim)
		})
	}
}

// TestSweepRemovesOnlyExpired leaves the resources of a "killed" run behind (no Cleanup) and
// sweeps before and after their expiry.
func TestSweepRemovesOnlyExpired(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast})
	state, _ := newState(t, sim)
	state.Put("sim", sim)
	state.Put(StateSourceImage, debianImage(t, sim))
	session := NewSession("golden-test", "killed", time.Hour, nil)
	for _, step := range steps(session, sshComm(), []string{"192.0.2.0/24"}) {
		if step.Run(context.Background(), state) != multistep.ActionContinue {
			t.Fatalf("step %T failed: %v", step, state.Get(stateError))
		}
	}
	before := live(sim)
	var out bytes.Buffer
	u := secretfilter.Ui(&bufferUi{out: &out})
	api := newClient(sim)
	if n, err := SweepOrphans(context.Background(), api, u, fastPolling, time.Now()); n != 0 || err != nil {
		t.Fatalf("sweep before expiry removed %d (%v)", n, err)
	}
	if after := live(sim); len(after.instances) != len(before.instances) {
		t.Fatalf("sweep before expiry touched live resources")
	}
	n, err := SweepOrphans(context.Background(), api, u, fastPolling, session.ExpiresAt.Add(time.Second))
	if err != nil || n != 3 {
		t.Fatalf("sweep after expiry removed %d (%v):\n%s", n, err, out.String())
	}
	assertNothingLeft(t, sim)
	for _, kind := range []string{"instance", "security group", "key pair"} {
		if !strings.Contains(out.String(), "Removed expired "+kind) {
			t.Errorf("sweep did not report the %s:\n%s", kind, out.String())
		}
	}
}

func TestCheckSourceCIDR(t *testing.T) {
	for cidr, ok := range map[string]bool{
		"0.0.0.0/0": true, "203.0.113.7/32": true, "10.0.0.0/8": true, "::/0": true, "2001:db8::/32": true,
		"1.2.3.4/0": false, "10.0.0.1/8": false, "203.0.113.7": false, "0/0": false, "": false,
	} {
		if err := checkSourceCIDR(cidr); (err == nil) != ok {
			t.Errorf("checkSourceCIDR(%q) = %v, want ok=%v", cidr, err, ok)
		}
	}
}

func TestNATSuspected(t *testing.T) {
	cases := []struct {
		local, remote string
		nat           bool
	}{
		{"10.213.0.1", "10.213.0.2", false},
		{"192.168.1.5", "203.0.113.9", true},
		{"100.64.3.1", "198.51.100.1", true},
		{"198.51.100.7", "203.0.113.9", false},
		{"127.0.0.1", "127.0.0.1", false},
	}
	for _, c := range cases {
		if got := NATSuspected(parseIP(c.local), parseIP(c.remote)); got != c.nat {
			t.Errorf("NATSuspected(%s, %s) = %v", c.local, c.remote, got)
		}
	}
}

func parseIP(s string) net.IP { return net.ParseIP(s) }

// bufferUi writes what a step prints to out, one line each. packersdk.BasicUi would do, but it
// reads the SDK's secret registry without a lock while parallel subtests register their keys;
// wrapped in secretfilter.Ui, the lines are still masked, under the registry's lock.
type bufferUi struct {
	mu  sync.Mutex
	out *bytes.Buffer
}

func (u *bufferUi) line(s string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintln(u.out, s)
}

func (u *bufferUi) Ask(string) (string, error)          { return "", errors.New("no input in tests") }
func (u *bufferUi) Askf(string, ...any) (string, error) { return "", errors.New("no input in tests") }
func (u *bufferUi) Say(s string)                        { u.line(s) }
func (u *bufferUi) Sayf(f string, a ...any)             { u.line(fmt.Sprintf(f, a...)) }
func (u *bufferUi) Message(s string)                    { u.line(s) }
func (u *bufferUi) Error(s string)                      { u.line(s) }
func (u *bufferUi) Errorf(f string, a ...any)           { u.line(fmt.Sprintf(f, a...)) }
func (u *bufferUi) Machine(string, ...string)           {}
func (u *bufferUi) TrackProgress(_ string, _, _ int64, stream io.ReadCloser) io.ReadCloser {
	return stream
}

// TestRunInstanceTriesTheNextOption: on a capacity error (Unsupported here: the type is not offered
// in the zone) the next option is launched, Spot before on-demand for each type in turn; any other
// error stops the build at once.
func TestRunInstanceTriesTheNextOption(t *testing.T) {
	cases := []struct {
		name          string
		spot          bool
		fail          []string // the errors of the first RunInstances calls, in order
		wantType      string
		wantLifecycle string
		wantErr       string
		wantCalls     int
	}{
		{name: "spot", spot: true, wantType: "t3.micro", wantLifecycle: "spot", wantCalls: 1},
		{name: "no spot capacity: on demand", spot: true, fail: []string{"Unsupported"}, wantType: "t3.micro", wantCalls: 2},
		{name: "next type as spot", spot: true, fail: []string{"Unsupported", "Unsupported"}, wantType: "t3.small", wantLifecycle: "spot", wantCalls: 3},
		{name: "next type on demand", fail: []string{"Unsupported"}, wantType: "t3.small", wantCalls: 2},
		{name: "every option refused", fail: []string{"Unsupported", "Unsupported"}, wantCalls: 2,
			wantErr: "no instance type could be launched: on-demand t3.micro: Unsupported; on-demand t3.small: Unsupported"},
		{name: "not a capacity error", spot: true, fail: []string{"InvalidParameterValue"}, wantCalls: 1,
			wantErr: "launching the instance: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast})
			for i, code := range tc.fail {
				sim.FailNth("RunInstances", i+1, code, "The requested configuration is currently not supported.")
			}
			state, out := newState(t, sim)
			state.Put(StateSourceImage, debianImage(t, sim))
			session := NewSession("golden-test", "b-next", time.Hour, nil)
			comm := &communicator.Config{Type: "none"}
			runner := &multistep.BasicRunner{Steps: []multistep.Step{
				&StepNetwork{},
				&StepSecurityGroup{Session: session, Comm: comm, Polling: fastPolling},
				&StepRunInstance{Session: session, Comm: comm, InstanceTypes: []string{"t3.micro", "t3.small"}, Spot: tc.spot, Polling: fastPolling,
					MetadataOptions: MetadataOptions{HTTPEndpoint: "enabled", HTTPTokens: "required", HTTPPutResponseHopLimit: 1, InstanceMetadataTags: "disabled"}},
				haltStep{},
			}}
			state.Put("sim", sim)
			runner.Run(context.Background(), state)
			if got := sim.Calls("RunInstances"); got != tc.wantCalls {
				t.Errorf("RunInstances called %d times, want %d:\n%s", got, tc.wantCalls, out)
			}
			seen, _ := state.Get("seen").(snapshot)
			if tc.wantErr != "" {
				err, _ := state.Get(stateError).(error)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error = %v, want %q", err, tc.wantErr)
				}
				if launched := sim.Instances(region); len(launched) != 0 {
					t.Errorf("instances launched: %+v", launched)
				}
			} else if len(seen.instances) != 1 || seen.instances[0].InstanceType != tc.wantType || seen.instances[0].Lifecycle != tc.wantLifecycle {
				t.Errorf("launched %+v, want one %s instance with lifecycle %q:\n%s", seen.instances, tc.wantType, tc.wantLifecycle, out)
			}
			assertNothingLeft(t, sim)
		})
	}
}
