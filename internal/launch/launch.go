// Package launch launches the temporary EC2 instance a golden-* component works on, and removes
// everything it made for it: golden-ebs builds an image from that instance, golden-validate probes
// one. It holds the multistep steps both run (orphan sweep, network, temporary key pair, temporary
// security group, instance, SSH ingress for the caller), the options they share (RunConfig) and
// the keys under which the steps leave their results in the state bag.
//
// Every resource the steps create carries the Session's tags from its creation on (tags on
// create, never a CreateTags afterwards, so a crash between the two calls cannot leave an untagged
// resource): golden:build-id, golden:temporary = true and golden:expires-at. Each step's Cleanup
// deletes what its Run created, with a fresh context, on success, on error and on interrupt; what
// a killed process could not delete, StepSweepOrphans deletes in the next run once it expired.
package launch

import (
	"context"
	"fmt"
	"log"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// State bag keys the steps read and write. Values are given with their Go types.
const (
	// StateEC2 holds the EC2API every step calls (an *ec2.Client). The caller puts it.
	StateEC2 = "ec2"
	// StateSourceImage holds the types.Image the instance is launched from. The caller puts it
	// (golden-ebs resolves it; golden-validate reads it from the artifact).
	StateSourceImage = "source_image"
	// StateVpcID and StateSubnetID hold the network StepNetwork chose (string).
	StateVpcID    = "vpc_id"
	StateSubnetID = "subnet_id"
	// StateAvailabilityZone holds the zone of the subnet (string).
	StateAvailabilityZone = "availability_zone"
	// StateKeyPair holds the *KeyPair StepKeyPair imported; absent when the run logs in with a key
	// pair of its own or without SSH.
	StateKeyPair = "launch_key_pair"
	// StateSecurityGroupIDs holds the groups the instance is launched in ([]string).
	StateSecurityGroupIDs = "securityGroupIds"
	// StateTemporaryGroupID holds the id of the group StepSecurityGroup created (string).
	StateTemporaryGroupID = "launch_temporary_group_id"
	// StateInstance holds the running instance as last described (*types.Instance), and
	// StateInstanceID its id (string), as packer-plugin-amazon names them.
	StateInstance   = "instance"
	StateInstanceID = "instance_id"
	// StateSSHHost holds the address StepConnect connects to (string), once the instance runs.
	StateSSHHost = "ssh_host"
)

// Common state bag keys of packer's multistep convention.
const (
	stateUI    = "ui"
	stateError = "error"
)

// EC2API is every EC2 call the steps make; *ec2.Client implements it.
type EC2API interface {
	ec2.DescribeInstancesAPIClient
	ec2.DescribeInstanceStatusAPIClient
	ec2.DescribeImagesAPIClient
	ec2.DescribeSnapshotsAPIClient
	ec2.DescribeSecurityGroupsAPIClient
	ec2.DescribeSubnetsAPIClient
	DescribeKeyPairs(ctx context.Context, in *ec2.DescribeKeyPairsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error)
	ImportKeyPair(ctx context.Context, in *ec2.ImportKeyPairInput, optFns ...func(*ec2.Options)) (*ec2.ImportKeyPairOutput, error)
	DeleteKeyPair(ctx context.Context, in *ec2.DeleteKeyPairInput, optFns ...func(*ec2.Options)) (*ec2.DeleteKeyPairOutput, error)
	CreateSecurityGroup(ctx context.Context, in *ec2.CreateSecurityGroupInput, optFns ...func(*ec2.Options)) (*ec2.CreateSecurityGroupOutput, error)
	AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	DeleteSecurityGroup(ctx context.Context, in *ec2.DeleteSecurityGroupInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	RunInstances(ctx context.Context, in *ec2.RunInstancesInput, optFns ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, optFns ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
}

var _ EC2API = (*ec2.Client)(nil)

// Session is one run's identity on the temporary resources it creates.
type Session struct {
	// Component names the creator in resource names and descriptions, e.g. "golden-ebs".
	Component string
	// BuildID is unique to the run; it is the golden:build-id tag and part of resource names.
	BuildID string
	// ExpiresAt is when what the run leaves behind may be swept (golden:expires-at).
	ExpiresAt time.Time
	// Tags are the user's tags for temporary resources (run_tags), added to the session's own.
	Tags map[string]string
}

// NewSession starts a session whose resources expire after ttl.
func NewSession(component, buildID string, ttl time.Duration, tags map[string]string) Session {
	return Session{Component: component, BuildID: buildID, ExpiresAt: time.Now().UTC().Add(ttl).Truncate(time.Second), Tags: tags}
}

// Name is the name of the run's temporary resources: "<component>-<build id>".
func (s Session) Name() string { return s.Component + "-" + s.BuildID }

// TemporaryTags are the tags of every temporary resource: the user's tags, Name, and the
// session's golden:* tags, which the user's cannot override.
func (s Session) TemporaryTags() []types.Tag {
	m := map[string]string{"Name": s.Name()}
	for k, v := range s.Tags {
		m[k] = v
	}
	m[goldentag.BuildID] = s.BuildID
	m[goldentag.Temporary] = goldentag.TemporaryTrue
	m[goldentag.ExpiresAt] = s.ExpiresAt.Format(time.RFC3339)
	return EC2Tags(m)
}

// TagSpecifications puts TemporaryTags on each resource type, for tags on create.
func (s Session) TagSpecifications(resourceTypes ...types.ResourceType) []types.TagSpecification {
	specs := make([]types.TagSpecification, len(resourceTypes))
	for i, rt := range resourceTypes {
		specs[i] = types.TagSpecification{ResourceType: rt, Tags: s.TemporaryTags()}
	}
	return specs
}

// EC2Tags turns a map into EC2 tags, sorted by key so that requests are reproducible.
func EC2Tags(m map[string]string) []types.Tag {
	tags := make([]types.Tag, 0, len(m))
	for _, k := range sortedKeys(m) {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

// CleanupTimeout bounds each step's Cleanup, which runs with a fresh context: the build's own
// context is already cancelled after an interrupt.
const CleanupTimeout = 15 * time.Minute

// cleanupAttempts is how often a cleanup call is tried. The SDK already retries throttling and
// transient errors; these attempts also cover an error the SDK gives up on, because a resource
// left behind costs more than a few seconds.
const cleanupAttempts = 4

// RetryCleanup runs call until it succeeds, gone(err) says the resource is gone anyway, or the
// attempts or ctx run out: what every Cleanup deleting something calls.
func RetryCleanup(ctx context.Context, what string, call func(context.Context) error, gone func(error) bool) error {
	var err error
	delay := time.Second
	for attempt := 1; attempt <= cleanupAttempts; attempt++ {
		err = call(ctx)
		if err == nil || (gone != nil && gone(err)) {
			return nil
		}
		log.Printf("[WARN] %s (attempt %d of %d): %v", what, attempt, cleanupAttempts, err)
		if attempt == cleanupAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (gave up: %v)", what, err, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
	return fmt.Errorf("%s: %w", what, err)
}

// halt records err in the state bag, reports it and halts the build, the multistep convention.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put(stateError, err)
	ui(state).Error(err.Error())
	return multistep.ActionHalt
}

func ui(state multistep.StateBag) packersdk.Ui { return state.Get(stateUI).(packersdk.Ui) }

func ec2API(state multistep.StateBag) EC2API { return state.Get(StateEC2).(EC2API) }

// Failed reports whether the run is failing or was interrupted: what Cleanup of a step that keeps
// its result on success (an image) checks.
func Failed(state multistep.StateBag) bool {
	_, cancelled := state.GetOk(multistep.StateCancelled)
	_, halted := state.GetOk(multistep.StateHalted)
	return cancelled || halted
}

// reservedTagKeys are the tags a run writes itself on what it creates.
var reservedTagKeys = []string{goldentag.BuildID, goldentag.Temporary, goldentag.ExpiresAt}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
