package launch

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// TestRunInstanceWithInstanceProfile: iam_instance_profile reaches RunInstances as
// IamInstanceProfile (a name as Name, an ARN as Arn), the instance carries the profile when
// described, and the launch needed iam:PassRole, as AWS authorizes it.
func TestRunInstanceWithInstanceProfile(t *testing.T) {
	const account = "123456789012"
	for _, tc := range []struct{ option, wantARN string }{
		{"build-role", "arn:aws:iam::" + account + ":instance-profile/build-role"},
		{"arn:aws:iam::" + account + ":instance-profile/teams/build-role", "arn:aws:iam::" + account + ":instance-profile/teams/build-role"},
	} {
		t.Run(tc.option, func(t *testing.T) {
			sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast, InstanceAddress: "127.0.0.1", AccountID: account})
			state, out := newState(t, sim)
			state.Put("sim", sim)
			state.Put(StateSourceImage, debianImage(t, sim))
			session := NewSession("golden-test", "b1", time.Hour, nil)
			all := steps(session, sshComm(), nil)
			for _, st := range all {
				if run, ok := st.(*StepRunInstance); ok {
					run.IAMInstanceProfile = tc.option
				}
			}
			var described string
			probe := stepFunc(func(ctx context.Context, state multistep.StateBag) {
				id := state.Get(StateInstanceID).(string)
				res, err := newClient(sim).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
				if err != nil || len(res.Reservations) != 1 || len(res.Reservations[0].Instances) != 1 {
					t.Fatalf("DescribeInstances %s: %+v %v", id, res, err)
				}
				if p := res.Reservations[0].Instances[0].IamInstanceProfile; p != nil {
					described = aws.ToString(p.Arn)
				}
			})
			runner := &multistep.BasicRunner{Steps: append(all, probe, haltStep{})}
			runner.Run(context.Background(), state)

			seen := state.Get("seen").(snapshot)
			if len(seen.instances) != 1 {
				t.Fatalf("want one instance, got %+v\n%s", seen, out)
			}
			if got := seen.instances[0].IAMInstanceProfileARN; got != tc.wantARN {
				t.Errorf("the simulator launched with profile %q, want %q", got, tc.wantARN)
			}
			if described != tc.wantARN {
				t.Errorf("DescribeInstances shows profile %q, want %q", described, tc.wantARN)
			}
			if n := sim.CallsByCaller()[""]["iam:PassRole"]; n != 1 {
				t.Errorf("iam:PassRole needed by %d calls, want 1 (the RunInstances)", n)
			}
			assertNothingLeft(t, sim)
		})
	}
}

// TestRunInstanceWithoutInstanceProfile: without iam_instance_profile, no profile and no
// iam:PassRole.
func TestRunInstanceWithoutInstanceProfile(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast, InstanceAddress: "127.0.0.1"})
	state, _ := newState(t, sim)
	state.Put("sim", sim)
	state.Put(StateSourceImage, debianImage(t, sim))
	runner := &multistep.BasicRunner{Steps: append(steps(NewSession("golden-test", "b2", time.Hour, nil), sshComm(), nil), haltStep{})}
	runner.Run(context.Background(), state)
	seen := state.Get("seen").(snapshot)
	if len(seen.instances) != 1 || seen.instances[0].IAMInstanceProfileARN != "" {
		t.Errorf("instances %+v, want one without a profile", seen.instances)
	}
	if n := sim.CallsByCaller()[""]["iam:PassRole"]; n != 0 {
		t.Errorf("iam:PassRole needed by %d calls without a profile", n)
	}
}

// stepFunc is a step that runs f and cleans up nothing.
type stepFunc func(context.Context, multistep.StateBag)

func (f stepFunc) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	f(ctx, state)
	return multistep.ActionContinue
}

func (stepFunc) Cleanup(multistep.StateBag) {}

// lateLaunchAPI loses the answer of the first RunInstances, as an interrupt or a broken
// connection does, and lets EC2 launch from it only after the next DescribeInstances has been
// answered: the request was still in flight when the build looked for its instances.
type lateLaunchAPI struct {
	EC2API
	mu      sync.Mutex
	pending *ec2.RunInstancesInput
	late    []string // ids the late launch made
}

func (a *lateLaunchAPI) RunInstances(ctx context.Context, in *ec2.RunInstancesInput, optFns ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil && a.late == nil {
		a.pending = in
		return nil, fmt.Errorf("operation error EC2: RunInstances, https response error StatusCode: 0, canceled, %w", context.Canceled)
	}
	return a.EC2API.RunInstances(ctx, in, optFns...)
}

func (a *lateLaunchAPI) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	out, err := a.EC2API.DescribeInstances(ctx, in, optFns...)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending != nil {
		launched, lerr := a.EC2API.RunInstances(ctx, a.pending)
		if lerr != nil || len(launched.Instances) != 1 {
			return nil, fmt.Errorf("the late launch failed: %+v %v", launched, lerr)
		}
		a.late = append(a.late, aws.ToString(launched.Instances[0].InstanceId))
		a.pending = nil
	}
	return out, err
}

// TestCleanupFindsAnInstanceLaunchedAfterItsRequestWasLost: the build's RunInstances got no
// answer and EC2 launched the instance only after Cleanup had looked for it by tag. Cleanup
// sends the request again with its client token, learns the instance's id from the answer and
// terminates it, so that the security group can be deleted too; the second request launches
// nothing.
func TestCleanupFindsAnInstanceLaunchedAfterItsRequestWasLost(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast, InstanceAddress: "127.0.0.1"})
	state, out := newState(t, sim)
	api := &lateLaunchAPI{EC2API: newClient(sim)}
	state.Put(StateEC2, EC2API(api))
	state.Put("sim", sim)
	state.Put(StateSourceImage, debianImage(t, sim))
	runner := &multistep.BasicRunner{Steps: steps(NewSession("golden-test", "b-lost", time.Hour, nil), sshComm(), nil)}
	runner.Run(context.Background(), state)

	if _, halted := state.GetOk(multistep.StateHalted); !halted {
		t.Fatalf("the run did not halt on the lost answer:\n%s", out)
	}
	if len(api.late) != 1 {
		t.Fatalf("the late launch made %v, want one instance:\n%s", api.late, out)
	}
	if all := sim.Instances(region); len(all) != 1 {
		t.Errorf("%d instances launched in all, want 1 (the replayed request must not launch a second): %+v", len(all), all)
	}
	if !strings.Contains(out.String(), "The interrupted launch started instance "+api.late[0]) {
		t.Errorf("the output does not name the instance the lost request launched:\n%s", out)
	}
	assertNothingLeft(t, sim)
}
