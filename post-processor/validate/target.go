package validate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/uuid"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// State bag keys of golden-validate's own steps.
const (
	stateOutcome = "validate_outcome"
	// stateKeep is set when keep_on_failure keeps the instance and its security group.
	stateKeep = "validate_keep"
)

// check is one probe's final result on one target.
type check struct {
	Type     string
	Subject  string
	Pass     bool
	Message  string
	Evidence string
	Attempts int
	Duration time.Duration
}

// ID names the check in reports and messages: `service "fail2ban"`.
func (c check) ID() string { return fmt.Sprintf("%s %q", c.Type, c.Subject) }

// outcome is what happened on one target.
type outcome struct {
	Target     target
	BuildID    string
	InstanceID string
	// OS is the booted instance's operating system, as its os-release names it.
	OS      string
	Checks  []check
	Console string
	// Err is set when the validation could not finish on the target.
	Err error
	// ImageFault says Err is the image's doing: the instance was launched and then did not pass
	// its status checks, never answered SSH, or cloud-init failed.
	ImageFault bool
	// Kept describes the instance keep_on_failure left running.
	Kept     *keptInstance
	Started  time.Time
	Duration time.Duration
}

// keptInstance is how to reach an instance kept for debugging.
type keptInstance struct {
	InstanceID, Address, User, KeyPath string
	ExpiresAt                          time.Time
}

// Failed lists the checks that failed.
func (o *outcome) Failed() []check {
	var out []check
	for _, c := range o.Checks {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// runTarget launches an instance of the target's image, waits for it, probes it and removes
// everything it launched (unless keep_on_failure keeps the instance of a failed validation).
func (p *PostProcessor) runTarget(ctx context.Context, ui packersdk.Ui, t target) *outcome {
	c := &p.config
	out := &outcome{Target: t, Started: time.Now()}
	defer func() { out.Duration = time.Since(out.Started) }()

	access := c.AccessConfig.ForRegion(t.Region)
	client, err := access.EC2Client(ctx)
	if err != nil {
		out.Err = err
		return out
	}
	image, err := describeImage(ctx, client, t.ImageID)
	if err != nil {
		out.Err = fmt.Errorf("%s: %w", t, err)
		return out
	}

	// Each target has its own copy of the run options: the key pair step fills in the
	// communicator's key.
	rc := c.RunConfig
	userData, err := rc.ReadUserData()
	if err != nil {
		out.Err = err
		return out
	}
	session := launch.NewSession(component, uuid.TimeOrderedUUID(), rc.TemporaryResourcesTTL, rc.RunTags)
	out.BuildID = session.BuildID
	network := &launch.StepNetwork{SubnetID: t.SubnetID}
	if t.local && t.SubnetID == "" {
		network = &launch.StepNetwork{SubnetID: rc.SubnetID, SubnetFilter: rc.SubnetFilter, VpcID: rc.VpcID}
	}

	state := new(multistep.BasicStateBag)
	state.Put("ui", ui)
	state.Put(launch.StateEC2, client)
	state.Put(launch.StateSourceImage, image)
	state.Put(stateOutcome, out)

	steps := []multistep.Step{
		&launch.StepSweepOrphans{Enabled: rc.SweepOrphans.True(), Polling: rc.Polling},
		network,
		&launch.StepKeyPair{Session: session, Comm: &rc.Comm},
		&keepOnFailure{Step: &launch.StepSecurityGroup{Session: session, Comm: &rc.Comm, SecurityGroupIDs: rc.SecurityGroupIDs,
			SourceCIDRs: rc.TemporarySecurityGroupSourceCIDRs, CheckIPURL: rc.CheckIPURL, Polling: rc.Polling}},
		&keepOnFailure{Step: &launch.StepRunInstance{Session: session, Comm: &rc.Comm, InstanceTypes: []string{t.InstanceType}, Spot: rc.Spot,
			AssociatePublicIPAddress: rc.AssociatePublicIPAddress, IAMInstanceProfile: rc.IAMInstanceProfile,
			MetadataOptions: rc.MetadataOptions, UserData: userData, SSHInterface: rc.SSHInterface, Polling: rc.Polling}},
		&launch.StepAuthorizeCaller{Comm: &rc.Comm},
		&communicator.StepConnect{Config: &rc.Comm, Host: launch.SSHHost, SSHConfig: rc.Comm.SSHConfigFunc()},
		&stepCloudInit{Timeout: c.CloudInitTimeout},
		&stepProbe{Config: c, Comm: &rc.Comm, Session: session, Image: image, Client: client},
	}
	runner := commonsteps.NewRunnerWithPauseFn(steps, c.PackerConfig, ui, state)
	runner.Run(ctx, state)

	if id, ok := state.GetOk(launch.StateInstanceID); ok {
		out.InstanceID = id.(string)
	}
	if rawErr, ok := state.GetOk("error"); ok && out.Err == nil {
		out.Err = rawErr.(error)
		_, launched := state.GetOk(launch.StateInstanceID)
		out.ImageFault = launched && awsconf.ErrorCode(out.Err) == "" && ctx.Err() == nil
		if out.ImageFault {
			out.Console = consoleOutput(client, out.InstanceID)
		}
	}
	if out.Err == nil && ctx.Err() != nil {
		out.Err = ctx.Err()
	}
	if out.Err == nil && out.Checks == nil {
		out.Err = errors.New("the validation ended before the probes ran")
	}
	return out
}

func describeImage(ctx context.Context, api ec2.DescribeImagesAPIClient, id string) (types.Image, error) {
	img, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	if err != nil {
		return types.Image{}, fmt.Errorf("looking up image %s: %w", id, err)
	}
	if len(img.Images) == 0 {
		return types.Image{}, fmt.Errorf("image %s not found", id)
	}
	im := img.Images[0]
	if im.State != types.ImageStateAvailable {
		return types.Image{}, fmt.Errorf("image %s is %s, not available", id, im.State)
	}
	return im, nil
}

// consoleOutputTimeout bounds the console output request of a failed validation.
const consoleOutputTimeout = time.Minute

// consoleOutput is the instance's console output, for the report of a failed validation; a
// failure to get it is said in its place.
func consoleOutput(api consoleAPI, instanceID string) string {
	ctx, cancel := context.WithTimeout(context.Background(), consoleOutputTimeout)
	defer cancel()
	out, err := api.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(instanceID), Latest: aws.Bool(true)})
	if err != nil {
		return fmt.Sprintf("(the console output of %s could not be read: %v)", instanceID, err)
	}
	text, err := decodeConsole(aws.ToString(out.Output))
	if err != nil {
		return fmt.Sprintf("(the console output of %s is not base64: %v)", instanceID, err)
	}
	return text
}

type consoleAPI interface {
	GetConsoleOutput(ctx context.Context, in *ec2.GetConsoleOutputInput, optFns ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error)
}

// keepOnFailure runs a step whose Cleanup removes the instance or its security group, and skips
// that Cleanup when keep_on_failure keeps the instance of a failed validation.
type keepOnFailure struct {
	multistep.Step
}

func (k *keepOnFailure) Cleanup(state multistep.StateBag) {
	if _, keep := state.GetOk(stateKeep); keep {
		return
	}
	k.Step.Cleanup(state)
}
