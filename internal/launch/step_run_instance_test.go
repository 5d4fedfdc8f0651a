package launch

import (
	"context"
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
