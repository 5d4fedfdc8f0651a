package lifecycle

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// EC2API is every EC2 call the executor makes.
type EC2API interface {
	InventoryEC2API
	ec2.DescribeSnapshotsAPIClient
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, optFns ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	CopyImage(ctx context.Context, in *ec2.CopyImageInput, optFns ...func(*ec2.Options)) (*ec2.CopyImageOutput, error)
	DeregisterImage(ctx context.Context, in *ec2.DeregisterImageInput, optFns ...func(*ec2.Options)) (*ec2.DeregisterImageOutput, error)
	DeleteSnapshot(ctx context.Context, in *ec2.DeleteSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSnapshotOutput, error)
	ModifyImageAttribute(ctx context.Context, in *ec2.ModifyImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyImageAttributeOutput, error)
	ModifySnapshotAttribute(ctx context.Context, in *ec2.ModifySnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifySnapshotAttributeOutput, error)
	EnableImageDeprecation(ctx context.Context, in *ec2.EnableImageDeprecationInput, optFns ...func(*ec2.Options)) (*ec2.EnableImageDeprecationOutput, error)
	EnableImageDeregistrationProtection(ctx context.Context, in *ec2.EnableImageDeregistrationProtectionInput, optFns ...func(*ec2.Options)) (*ec2.EnableImageDeregistrationProtectionOutput, error)
}

// SSMAPI is every Systems Manager call the executor makes.
type SSMAPI interface {
	InventorySSMAPI
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// RegionClients are the clients of one region.
type RegionClients struct {
	EC2         EC2API
	SSM         SSMAPI
	AutoScaling InventoryAutoScalingAPI
	// KMS tells customer managed keys from the AWS-managed one before sharing.
	KMS KMSAPI
}

// ClientFactory returns the clients of a region.
type ClientFactory func(ctx context.Context, region string) (RegionClients, error)

// UI is where the executor reports what it does; packer's Ui satisfies it.
type UI interface {
	Say(message string)
	Message(message string)
}

// ImageRef names an image in a region.
type ImageRef struct {
	Region  string `json:"region"`
	ImageID string `json:"image_id"`
}

func (r ImageRef) String() string { return r.Region + ":" + r.ImageID }

// Job is everything one lifecycle run does, as decided from the configuration.
type Job struct {
	// Source is the image the build produced.
	Source ImageRef
	// AlsoIn lists copies of Source the builder already made (an amazon-ebs artifact with
	// ami_regions): they are tagged, shared, deprecated and published like Source.
	AlsoIn []ImageRef
	// SourceImageID is the image the build started from, kept by the prune when it is ours.
	SourceImageID string
	// Tags go on every image (the source and each copy); SnapshotTags on their snapshots in
	// addition to Tags, winning on the same key.
	Tags, SnapshotTags map[string]string
	// CopyTo lists the regions to copy the image to (never the source region).
	CopyTo []string
	// KMSKeyIDs maps a copy region to the KMS key encrypting the copy there.
	KMSKeyIDs map[string]string
	// EncryptCopies encrypts every copy, with KMSKeyIDs[region] or the account's default EBS key.
	EncryptCopies bool
	// CopyTimeout bounds all copies together.
	CopyTimeout                                                time.Duration
	ShareWithAccounts, ShareWithOrgARNs, ShareWithOUARNs       []string
	DeprecateAfter                                             time.Duration
	DeregistrationProtection, DeregistrationProtectionCooldown bool
	// SSMParameter receives the image id in every region.
	SSMParameter string
	// Prune, when set, prunes older images of the pipeline after distribution.
	Prune *PruneJob
	// DryRun reports every change without making any.
	DryRun bool
}

// PruneJob is the prune part of a Job.
type PruneJob struct {
	Policy PrunePolicy
	// Regions to prune; empty means the source region and every copy region.
	Regions []string
	// DryRun plans and reports without deleting.
	DryRun bool
}

// RegionImage is the image in one region after the run.
type RegionImage struct {
	Region  string `json:"region"`
	ImageID string `json:"image_id"`
	Name    string `json:"name"`
	// CopiedFrom is "region:ami" of the source for a copy this run made; empty for the source.
	CopiedFrom      string            `json:"copied_from,omitempty"`
	Snapshots       []string          `json:"snapshots"`
	Tags            map[string]string `json:"tags"`
	Encrypted       bool              `json:"encrypted"`
	KMSKeyID        string            `json:"kms_key_id,omitempty"`
	CreationDate    *time.Time        `json:"creation_date,omitempty"`
	DeprecationTime *time.Time        `json:"deprecation_time,omitempty"`
	SSMParameter    string            `json:"ssm_parameter,omitempty"`
	// SharedWith lists the accounts, organizations and OUs the run shared the image with.
	SharedWith []string `json:"shared_with,omitempty"`
	// Protected is true once the run turned deregistration protection on.
	Protected bool `json:"deregistration_protected,omitempty"`
}

// Result is what a run produced.
type Result struct {
	// Images holds the source image first, then the copies by region.
	Images []RegionImage
	// Prune is the prune report, when the job prunes.
	Prune *Report
	// PreviousParameters holds the value the job's SSM parameter had before the run, by region
	// (absent: there was none), so that a failed run can put it back.
	PreviousParameters map[string]string `json:"-"`
}

// Refs lists every region:image pair of the result.
func (r Result) Refs() []ImageRef {
	refs := make([]ImageRef, len(r.Images))
	for i, img := range r.Images {
		refs[i] = ImageRef{Region: img.Region, ImageID: img.ImageID}
	}
	return refs
}

// Executor carries out jobs against AWS.
type Executor struct {
	Clients ClientFactory
	UI      UI
	// AccountID is the account the run works in (sts:GetCallerIdentity).
	AccountID string
	// PollInterval is the least time between two polls of a copy's state; default 15s.
	PollInterval time.Duration
	// ProgressEvery is how often a copy still running reports; default 30s.
	ProgressEvery time.Duration
	// CleanupTimeout bounds the removal of partial copies after a failure; default 10m.
	CleanupTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time

	uiMu sync.Mutex
	// told holds the inventory notes already shown: the inventory is read twice a run.
	told map[string]bool
	// keys caches what KMS said about each region's keys during a run.
	keysMu sync.Mutex
	keys   map[[2]string]*kmstypes.KeyMetadata
}

func (e *Executor) say(format string, args ...any) {
	e.uiMu.Lock()
	defer e.uiMu.Unlock()
	e.UI.Say(fmt.Sprintf(format, args...))
}

func (e *Executor) message(format string, args ...any) {
	e.uiMu.Lock()
	defer e.uiMu.Unlock()
	e.UI.Message(fmt.Sprintf(format, args...))
}

// messageOnce is message for a note that would otherwise repeat within a run.
func (e *Executor) messageOnce(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.uiMu.Lock()
	defer e.uiMu.Unlock()
	if e.told[msg] {
		return
	}
	if e.told == nil {
		e.told = map[string]bool{}
	}
	e.told[msg] = true
	e.UI.Message(msg)
}

func (e *Executor) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// wouldOr prefixes a step's message with "[dry run] would" when nothing is changed.
func wouldOr(dryRun bool, verb string) string {
	if dryRun {
		return "[dry run] would " + verb
	}
	return strings.ToUpper(verb[:1]) + verb[1:]
}

// Run tags, copies, shares, deprecates, protects and publishes the job's image, then prunes.
//
// Everything that can refuse the run is checked before the first change (see preflight): the
// images, the KMS keys, the deprecation time, EC2's permissions (DryRun), the SSM parameters and
// the prune's inventory and plan in every region. An error from that phase wraps
// errNothingChanged (see NothingChanged).
//
// Copies that fail or are interrupted are deregistered with their snapshots before Run returns.
// A failure after the copies succeeded leaves them in place (they are complete, tagged images);
// the error lists every image made so far, and the result holds them with what was done to each.
func (e *Executor) Run(ctx context.Context, job Job) (Result, error) {
	pre, err := e.preflight(ctx, job)
	if err != nil {
		return Result{}, Unchanged(err)
	}
	result := Result{PreviousParameters: pre.parameters}
	for _, src := range pre.sources {
		result.Images = append(result.Images, src.regionImage(job))
	}
	if err := e.change(ctx, job, pre, &result); err != nil {
		return result, fmt.Errorf("%w (images so far: %s)", err, formatRefs(result.Refs()))
	}
	return result, nil
}

// preflightResult is what the checks found out.
type preflightResult struct {
	sources []sourceImage
	// parameters holds the job's SSM parameter's value before the run, by region.
	parameters map[string]string
	// inventories are the prune's inventories as they were before the run, by region.
	inventories map[string]Inventory
}

// preflight makes every check that can refuse the run, and no change.
func (e *Executor) preflight(ctx context.Context, job Job) (preflightResult, error) {
	var pre preflightResult
	for _, ref := range append([]ImageRef{job.Source}, job.AlsoIn...) {
		src, err := e.describeSource(ctx, ref)
		if err != nil {
			return pre, err
		}
		pre.sources = append(pre.sources, src)
	}
	if err := checkDeprecation(job, pre.sources); err != nil {
		return pre, err
	}
	if err := e.checkShareable(ctx, job, pre.sources); err != nil {
		return pre, err
	}
	if err := e.checkCopyKeys(ctx, job); err != nil {
		return pre, err
	}
	if !job.DryRun {
		if err := e.checkPermissions(ctx, job, pre.sources); err != nil {
			return pre, err
		}
	}
	regions := []string{job.Source.Region}
	for _, r := range job.AlsoIn {
		regions = append(regions, r.Region)
	}
	var err error
	if pre.parameters, err = e.readParameters(ctx, job, append(regions, job.CopyTo...)); err != nil {
		return pre, err
	}
	if job.Prune != nil {
		planned := plannedResult(job, pre.sources)
		if pre.inventories, err = e.collectAll(ctx, job, planned); err != nil {
			return pre, fmt.Errorf("prune: %w", err)
		}
		var plans []PrunePlan
		for _, region := range job.PruneRegions() {
			plans = append(plans, Plan(withoutOwnParameter(job, pre.inventories[region]), job.Prune.Policy, e.now()))
		}
		if !job.DryRun && !job.Prune.DryRun {
			if err := e.checkPruneRights(ctx, plans); err != nil {
				return pre, err
			}
		}
	}
	return pre, nil
}

// change makes the run's changes, recording each in result as it is made.
func (e *Executor) change(ctx context.Context, job Job, pre preflightResult, result *Result) error {
	for _, src := range pre.sources {
		if err := e.tagSource(ctx, job, src); err != nil {
			return err
		}
	}
	copies, err := e.copyAll(ctx, job, pre.sources[0])
	if err != nil {
		return err
	}
	result.Images = append(result.Images, copies...)

	for i := range result.Images {
		if err := e.distribute(ctx, job, &result.Images[i]); err != nil {
			return err
		}
	}

	if job.Prune != nil {
		report, err := e.prune(ctx, job, *result, pre.inventories)
		if report != nil {
			result.Prune = report
		}
		if err != nil {
			return fmt.Errorf("distribution finished, but pruning failed: %w", err)
		}
	}
	return nil
}

func formatRefs(refs []ImageRef) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// sourceImage is the built image as EC2 describes it, with its snapshots' encryption.
type sourceImage struct {
	ref       ImageRef
	image     types.Image
	snapshots []types.Snapshot
}

// encrypted reports whether any snapshot of the image is encrypted.
func (s sourceImage) encrypted() bool {
	for _, snap := range s.snapshots {
		if aws.ToBool(snap.Encrypted) {
			return true
		}
	}
	return false
}

func (s sourceImage) regionImage(job Job) RegionImage {
	ri := RegionImage{
		Region:       s.ref.Region,
		ImageID:      s.ref.ImageID,
		Name:         aws.ToString(s.image.Name),
		Tags:         MergeTags(userTags(s.image.Tags), job.Tags),
		CreationDate: creationDate(s.image),
	}
	for _, snap := range s.snapshots {
		ri.Snapshots = append(ri.Snapshots, aws.ToString(snap.SnapshotId))
		if aws.ToBool(snap.Encrypted) {
			ri.Encrypted = true
			ri.KMSKeyID = aws.ToString(snap.KmsKeyId)
		}
	}
	return ri
}

func (e *Executor) describeSource(ctx context.Context, ref ImageRef) (sourceImage, error) {
	c, err := e.Clients(ctx, ref.Region)
	if err != nil {
		return sourceImage{}, err
	}
	out, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ref.ImageID}})
	if err != nil {
		return sourceImage{}, fmt.Errorf("describing %s: %w", ref, err)
	}
	if len(out.Images) != 1 {
		return sourceImage{}, fmt.Errorf("describing %s: image not found", ref)
	}
	img := out.Images[0]
	if img.State != types.ImageStateAvailable {
		return sourceImage{}, fmt.Errorf("%s is %s, not available", ref, img.State)
	}
	src := sourceImage{ref: ref, image: img}
	var ids []string
	for _, s := range SnapshotsOf(img) {
		ids = append(ids, s.ID)
	}
	if len(ids) > 0 {
		snaps, err := c.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: ids})
		if err != nil {
			return sourceImage{}, fmt.Errorf("describing the snapshots of %s: %w", ref, err)
		}
		src.snapshots = snaps.Snapshots
		sort.Slice(src.snapshots, func(i, j int) bool {
			return aws.ToString(src.snapshots[i].SnapshotId) < aws.ToString(src.snapshots[j].SnapshotId)
		})
	}
	return src, nil
}

func (e *Executor) tagSource(ctx context.Context, job Job, src sourceImage) error {
	c, err := e.Clients(ctx, src.ref.Region)
	if err != nil {
		return err
	}
	var snapIDs []string
	for _, s := range src.snapshots {
		snapIDs = append(snapIDs, aws.ToString(s.SnapshotId))
	}
	return e.tagImage(ctx, c.EC2, job, src.ref, snapIDs)
}

func (e *Executor) tagImage(ctx context.Context, api EC2API, job Job, ref ImageRef, snapshots []string) error {
	if len(job.Tags) == 0 && len(job.SnapshotTags) == 0 {
		return nil
	}
	e.say("%s %s and %d snapshot(s)", wouldOr(job.DryRun, "tag"), ref, len(snapshots))
	if job.DryRun {
		return nil
	}
	if len(job.Tags) > 0 {
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{ref.ImageID}, Tags: ec2Tags(job.Tags)}); err != nil {
			return fmt.Errorf("tagging %s: %w", ref, err)
		}
	}
	if len(snapshots) > 0 {
		tags := MergeTags(job.Tags, job.SnapshotTags)
		if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: snapshots, Tags: ec2Tags(tags)}); err != nil {
			return fmt.Errorf("tagging the snapshots of %s: %w", ref, err)
		}
	}
	return nil
}

// creationDate is the image's creation date for the manifest; nil when EC2 gave none it can read.
func creationDate(img types.Image) *time.Time {
	t, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
	if err != nil {
		return nil
	}
	return &t
}

// userTags drops the tags AWS reserves (aws:*), which cannot be set on a copy.
func userTags(tags []types.Tag) map[string]string {
	m := TagMap(tags)
	for k := range m {
		if strings.HasPrefix(k, "aws:") {
			delete(m, k)
		}
	}
	return m
}

// MergeTags returns the union of the maps, later maps winning.
func MergeTags(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func ec2Tags(m map[string]string) []types.Tag {
	keys := slices.Sorted(maps.Keys(m))
	tags := make([]types.Tag, len(keys))
	for i, k := range keys {
		tags[i] = types.Tag{Key: aws.String(k), Value: aws.String(m[k])}
	}
	return tags
}
