package launch

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// Default limits of the waits, when aws_polling.max_attempts does not set one.
const (
	DefaultInstanceStateWait  = 10 * time.Minute
	DefaultInstanceStatusWait = 15 * time.Minute
	DefaultImageWait          = 2 * time.Hour
)

// progressEvery is how often a wait whose state does not change prints a line anyway.
const progressEvery = 30 * time.Second

// Progress prints the lines of a long wait: the state at each change, and at least every 30
// seconds with the time waited so far, so a slow AWS shows as progress and not as a hung build.
type Progress struct {
	ui      packersdk.Ui
	what    string
	started time.Time
	last    string
	lastAt  time.Time
}

// NewProgress starts reporting a wait described by what ("instance i-0123 to run").
func NewProgress(ui packersdk.Ui, what string) *Progress {
	now := time.Now()
	ui.Say(fmt.Sprintf("Waiting for %s...", what))
	return &Progress{ui: ui, what: what, started: now, lastAt: now}
}

// Report prints status when it changed or progressEvery has passed.
func (p *Progress) Report(status string) {
	now := time.Now()
	if status == p.last && now.Sub(p.lastAt) < progressEvery {
		return
	}
	p.last, p.lastAt = status, now
	p.ui.Message(fmt.Sprintf("%s: %s after %s", p.what, status, now.Sub(p.started).Round(time.Second)))
}

// Done prints how long the wait took.
func (p *Progress) Done(status string) {
	p.ui.Message(fmt.Sprintf("%s: %s after %s", p.what, status, time.Since(p.started).Round(time.Second)))
}

// instanceState is the state the first instance of a DescribeInstances answer is in.
func instanceState(out *ec2.DescribeInstancesOutput) string {
	if out == nil {
		return "not visible yet"
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if in.State != nil {
				return string(in.State.Name)
			}
		}
	}
	return "not visible yet"
}

type instancesRetryable = func(context.Context, *ec2.DescribeInstancesInput, *ec2.DescribeInstancesOutput, error) (bool, error)

// WaitInstanceState waits until the instance reaches state (running, stopped or terminated)
// with the SDK's waiter for it, printing progress, and returns the instance as last described.
func WaitInstanceState(ctx context.Context, api ec2.DescribeInstancesAPIClient, ui packersdk.Ui, polling Polling, id string, state types.InstanceStateName) (*types.Instance, error) {
	in := &ec2.DescribeInstancesInput{InstanceIds: []string{id}}
	progress := NewProgress(ui, fmt.Sprintf("instance %s to be %s", id, state))
	delay := polling.Delay()
	// withProgress reports the state seen at each poll of the SDK waiter it wraps.
	withProgress := func(base instancesRetryable) instancesRetryable {
		return func(ctx context.Context, in *ec2.DescribeInstancesInput, out *ec2.DescribeInstancesOutput, err error) (bool, error) {
			retry, rerr := base(ctx, in, out, err)
			if retry {
				progress.Report(instanceState(out))
			}
			return retry, rerr
		}
	}
	maxWait := polling.MaxWait(DefaultInstanceStateWait)
	var out *ec2.DescribeInstancesOutput
	var err error
	switch state {
	case types.InstanceStateNameRunning:
		out, err = ec2.NewInstanceRunningWaiter(api, func(o *ec2.InstanceRunningWaiterOptions) {
			o.MinDelay, o.MaxDelay = delay, delay
			o.Retryable = withProgress(o.Retryable)
		}).WaitForOutput(ctx, in, maxWait)
	case types.InstanceStateNameStopped:
		out, err = ec2.NewInstanceStoppedWaiter(api, func(o *ec2.InstanceStoppedWaiterOptions) {
			o.MinDelay, o.MaxDelay = delay, delay
			o.Retryable = withProgress(o.Retryable)
		}).WaitForOutput(ctx, in, maxWait)
	case types.InstanceStateNameTerminated:
		out, err = ec2.NewInstanceTerminatedWaiter(api, func(o *ec2.InstanceTerminatedWaiterOptions) {
			o.MinDelay, o.MaxDelay = delay, delay
			o.Retryable = withProgress(o.Retryable)
		}).WaitForOutput(ctx, in, maxWait)
	default:
		return nil, fmt.Errorf("no waiter for instance state %q", state)
	}
	if err != nil {
		return nil, fmt.Errorf("waiting for instance %s to be %s: %w", id, state, err)
	}
	progress.Done(string(state))
	for _, r := range out.Reservations {
		for i := range r.Instances {
			return &r.Instances[i], nil
		}
	}
	return nil, fmt.Errorf("instance %s is %s but no longer described", id, state)
}

// WaitInstanceStatusOK waits until EC2's instance and system status checks pass.
func WaitInstanceStatusOK(ctx context.Context, api ec2.DescribeInstanceStatusAPIClient, ui packersdk.Ui, polling Polling, id string) error {
	progress := NewProgress(ui, fmt.Sprintf("the status checks of instance %s", id))
	delay := polling.Delay()
	err := ec2.NewInstanceStatusOkWaiter(api, func(o *ec2.InstanceStatusOkWaiterOptions) {
		o.MinDelay, o.MaxDelay = delay, delay
		base := o.Retryable
		o.Retryable = func(ctx context.Context, in *ec2.DescribeInstanceStatusInput, out *ec2.DescribeInstanceStatusOutput, err error) (bool, error) {
			retry, rerr := base(ctx, in, out, err)
			if retry {
				progress.Report(statusSummary(out))
			}
			return retry, rerr
		}
	}).Wait(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{id}, IncludeAllInstances: aws.Bool(true)}, polling.MaxWait(DefaultInstanceStatusWait))
	if err != nil {
		return fmt.Errorf("waiting for the status checks of instance %s: %w", id, err)
	}
	progress.Done("passed")
	return nil
}

func statusSummary(out *ec2.DescribeInstanceStatusOutput) string {
	if out == nil || len(out.InstanceStatuses) == 0 {
		return "no status yet"
	}
	s := out.InstanceStatuses[0]
	var instance, system types.SummaryStatus
	if s.InstanceStatus != nil {
		instance = s.InstanceStatus.Status
	}
	if s.SystemStatus != nil {
		system = s.SystemStatus.Status
	}
	return fmt.Sprintf("instance check %s, system check %s", instance, system)
}
