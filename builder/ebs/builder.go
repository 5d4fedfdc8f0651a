// Package ebs is golden-ebs: it launches a temporary instance from a source AMI, lets the
// provisioners run on it over SSH, and makes an EBS-backed AMI of it, secure by default (IMDSv2,
// an encrypted gp3 root volume, SSH open to this machine only) and without leaving a temporary
// resource behind, whatever happens to the build.
package ebs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/packerbuilderdata"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/uuid"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
)

// BuilderID identifies golden-ebs artifacts.
const BuilderID = amiref.BuilderIDGoldenEBS

// component names golden-ebs in resource names and messages.
const component = "golden-ebs"

// State bag keys of the builder's own steps.
const (
	stateSSM   = "ssm"
	stateImage = "image"
	// stateClearKeysOption is the raw option name a user can set to keep authorized_keys.
	clearKeysOption = "ssh_clear_authorized_keys"
)

// Builder is golden-ebs.
type Builder struct {
	config Config
	runner multistep.Runner
}

var _ packersdk.Builder = (*Builder)(nil)

func (b *Builder) ConfigSpec() hcldec.ObjectSpec { return b.config.FlatMapstructure().HCL2Spec() }

// Prepare decodes and validates the configuration and returns the names of the generated data.
func (b *Builder) Prepare(raws ...interface{}) ([]string, []string, error) {
	err := config.Decode(&b.config, &config.DecodeOpts{
		PluginType:         BuilderID,
		Interpolate:        true,
		InterpolateContext: &b.config.ctx,
	}, raws...)
	if err != nil {
		return nil, nil, err
	}
	if err := b.config.Prepare(optionSet(raws, clearKeysOption)); err != nil {
		return nil, nil, err
	}
	return generatedDataNames, nil, nil
}

// optionSet reports whether any raw configuration gives option a value. HCL2 passes every option
// of the spec, unset ones as null.
func optionSet(raws []interface{}, option string) bool {
	for _, raw := range raws {
		if m, ok := raw.(map[string]interface{}); ok && m[option] != nil {
			return true
		}
	}
	return false
}

// Run builds the image: the build is this list of steps.
func (b *Builder) Run(ctx context.Context, ui packersdk.Ui, hook packersdk.Hook) (packersdk.Artifact, error) {
	ui = secretfilter.Ui(ui)
	c := &b.config
	ec2Client, err := c.EC2Client(ctx)
	if err != nil {
		return nil, err
	}
	ssmClient, err := c.SSMClient(ctx)
	if err != nil {
		return nil, err
	}
	userData, err := c.ReadUserData()
	if err != nil {
		return nil, err
	}
	session := launch.NewSession(component, uuid.TimeOrderedUUID(), c.TemporaryResourcesTTL, c.RunTags)

	state := new(multistep.BasicStateBag)
	state.Put("config", c)
	state.Put("ui", ui)
	state.Put("hook", hook)
	state.Put(launch.StateEC2, ec2Client)
	state.Put(stateSSM, ssmClient)
	generated := &packerbuilderdata.GeneratedData{State: state}

	debugKey := ""
	if c.PackerDebug {
		debugKey = filepath.Join(".", fmt.Sprintf("%s-%s.pem", component, session.BuildID))
	}
	createImage := &StepCreateImage{Config: c, Session: session}
	steps := []multistep.Step{
		// The sweep first: an expired half-made image of a killed build may hold the AMI name.
		&launch.StepSweepOrphans{Enabled: c.SweepOrphans.True(), Polling: c.Polling},
		&StepCheckAMIName{Name: c.AMIName},
		&StepSourceAMI{Config: c, Generated: generated},
		&launch.StepNetwork{SubnetID: c.SubnetID, SubnetFilter: c.SubnetFilter, VpcID: c.VpcID},
		&launch.StepKeyPair{Session: session, Comm: &c.Comm, DebugKeyPath: debugKey},
		&launch.StepSecurityGroup{Session: session, Comm: &c.Comm, SecurityGroupIDs: c.SecurityGroupIDs,
			SourceCIDRs: c.TemporarySecurityGroupSourceCIDRs, CheckIPURL: c.CheckIPURL, Polling: c.Polling},
		&launch.StepRunInstance{Session: session, Comm: &c.Comm, InstanceTypes: c.InstanceTypeList(), Spot: c.Spot,
			AssociatePublicIPAddress: c.AssociatePublicIPAddress, IAMInstanceProfile: c.IAMInstanceProfile,
			MetadataOptions: c.MetadataOptions, UserData: userData, BlockDeviceMappings: c.RootVolume.mappings,
			SSHInterface: c.SSHInterface, Polling: c.Polling},
		&launch.StepAuthorizeCaller{Comm: &c.Comm},
		&communicator.StepConnect{Config: &c.Comm, Host: launch.SSHHost, SSHConfig: c.Comm.SSHConfigFunc()},
		&commonsteps.StepProvision{},
		&StepClearAuthorizedKeys{Comm: &c.Comm},
		&StepStopInstance{Polling: c.Polling},
		&StepENASupport{ENASupport: c.ENASupport},
		createImage,
		&StepFinishImage{Config: c},
	}
	b.runner = commonsteps.NewRunnerWithPauseFn(steps, c.PackerConfig, retryUI{ui, state}, state)
	b.runner.Run(ctx, state)
	switch {
	case !launch.Failed(state):
	case aborted(c.PackerOnError, state):
		reportKept(ui, state, c.PackerOnError, createImage.imageID, session)
	default:
		// Interrupted while the steps were cleaning up after their success: the image was kept
		// by then, and a cancelled build must not leave it behind.
		createImage.Cleanup(state)
	}

	if err, ok := state.GetOk("error"); ok {
		return nil, err.(error)
	}
	if launch.Failed(state) {
		return nil, errors.New("build was halted or cancelled")
	}
	image, ok := state.GetOk(stateImage)
	if !ok {
		return nil, errors.New("the build made no image")
	}
	return newArtifact(c, state, image.(builtImage), session.BuildID), nil
}

// retryUI is the UI the steps' runner asks through at -on-error=ask. Answering retry runs the
// failed step again, but the runner leaves the failed attempt's error in the state bag: a retry
// that succeeded would still end the build failed (the prompt's "build may fail even if retry
// succeeds"), after running the cleanup provisioner and keeping the finished image. The error
// goes when the user answers retry; a retried attempt that fails records its own.
type retryUI struct {
	packersdk.Ui
	state multistep.StateBag
}

func (u retryUI) Ask(query string) (string, error) {
	answer, err := u.Ui.Ask(query)
	// The SDK's prompt reads the first letter of the answer, r for retry.
	if err == nil && strings.Contains(query, "[r] retry step") && strings.HasPrefix(strings.ToLower(answer), "r") {
		u.state.Remove("error")
	}
	return answer, err
}

// aborted reports whether the steps' cleanup was skipped: packer build -on-error=abort (or
// run-cleanup-provisioner, which cleans up only the provisioners), or "abort" answered to
// -on-error=ask.
func aborted(onError string, state multistep.StateBag) bool {
	_, asked := state.GetOk("aborted")
	return asked || onError == "abort" || onError == "run-cleanup-provisioner"
}

// reportKept says what an aborted build left in the account and how it goes away.
func reportKept(ui packersdk.Ui, state multistep.StateBag, onError, imageID string, session launch.Session) {
	var kept []string
	if id, ok := state.GetOk(launch.StateInstanceID); ok {
		kept = append(kept, "instance "+id.(string))
	}
	if id, ok := state.GetOk(launch.StateTemporaryGroupID); ok {
		kept = append(kept, "security group "+id.(string))
	}
	if key, ok := state.GetOk(launch.StateKeyPair); ok {
		kept = append(kept, "key pair "+key.(*launch.KeyPair).Name)
	}
	if imageID != "" {
		what := "AMI " + imageID + " and its snapshots"
		if built, ok := state.GetOk(stateImage); ok {
			what += " " + strings.Join(built.(builtImage).Snapshots, ", ")
		}
		kept = append(kept, what)
	}
	if len(kept) == 0 {
		return
	}
	how := "-on-error=" + onError
	if onError == "ask" {
		how += " (answered abort)"
	}
	ui.Error(fmt.Sprintf("%s: kept %s of build %s for you to look at (the private key was only in memory; "+
		"-debug writes it to a file). They are tagged %s = true and expire at %s: the next build's sweep_orphans in this "+
		"account and region removes them then, or delete them yourself.", how, strings.Join(kept, ", "), session.BuildID,
		goldentag.Temporary, session.ExpiresAt.Format(time.RFC3339)))
}
