// Package lifecycle is the golden-lifecycle post-processor: it tags, copies, shares, deprecates,
// protects and publishes the image a build produced, writes a manifest, and prunes older images of
// the same pipeline without ever deleting one in use. The decisions live in internal/lifecycle;
// this package turns the configuration and the input artifact into a job and the result into an
// artifact.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awspp"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// PostProcessor is golden-lifecycle.
type PostProcessor struct {
	config Config

	// progressEvery overrides how often a running copy reports (tests shorten it).
	progressEvery time.Duration
}

var _ packersdk.PostProcessor = (*PostProcessor)(nil)

// ConfigSpec returns the HCL2 spec of the configuration.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	return p.config.Prepare(raws...)
}

// PostProcess runs the lifecycle on an EC2 image artifact (golden-ebs, amazon-ebs and the other
// EBS builders, or an earlier golden-lifecycle) and returns an artifact listing the image in every
// region.
//
// It always keeps the input artifact (keep and forceOverride are true): the returned artifact
// contains the input's image, so letting Packer destroy the input would destroy the output too.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, input packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	ui, in, err := awspp.Input("golden-lifecycle", ui, input)
	if err != nil {
		return nil, false, false, err
	}
	prov, err := provenanceFrom(&p.config, in)
	if err != nil {
		return nil, false, false, fmt.Errorf("golden-lifecycle: %w", err)
	}
	job := p.job(ui, in, prov)

	exec := &lifecycle.Executor{
		Clients:       p.clients(),
		UI:            ui,
		PollInterval:  p.config.pollInterval,
		ProgressEvery: p.progressEvery,
	}
	if job.Prune != nil {
		if exec.AccountID, err = p.accountID(ctx); err != nil {
			return nil, false, false, afterFailure(ui, exec, job, lifecycle.Result{}, lifecycle.Unchanged(err))
		}
	}
	if job.DryRun {
		ui.Say("golden-lifecycle: dry run, nothing will be changed")
	}
	result, runErr := exec.Run(ctx, job)

	artifact := &Artifact{Images: result.Images, Prune: result.Prune, SourceAMI: prov.sourceAMI, Input: input, access: &p.config.AccessConfig}
	if len(result.Images) > 0 {
		if err := p.writeFiles(job, result, artifact, prov); err != nil {
			runErr = errors.Join(runErr, err)
		}
	}
	if runErr != nil {
		return nil, false, false, afterFailure(ui, exec, job, result, runErr)
	}
	return artifact, true, true, nil
}

// afterFailure readies a failed run for what Packer does next: its core destroys the input
// artifact of a post-processor that returns an error, whatever keep and keep_input_artifact say,
// unless another post-processor block kept it. An input image something already points at is
// protected from deregistration, so that it stays; otherwise the user is warned that it goes.
func afterFailure(ui packersdk.Ui, exec *lifecycle.Executor, job lifecycle.Job, result lifecycle.Result, runErr error) error {
	input := append([]lifecycle.ImageRef{job.Source}, job.AlsoIn...)
	if job.DryRun || lifecycle.NothingChanged(runErr) || len(lifecycle.InputUses(result, input)) == 0 {
		ui.Error(fmt.Sprintf("golden-lifecycle: warning: Packer now deletes the build's image (%s) unless another post-processor block "+
			"kept it: a post-processor that fails never keeps its input, whatever its keep_input_artifact says. Nothing this run did points at it.",
			refsText(input)))
		return runErr
	}
	secured, err := exec.SecureInput(result, input, job)
	var notes []string
	for _, p := range secured.Protected {
		notes = append(notes, fmt.Sprintf("%s is kept: %s point at it, so golden-lifecycle turned its deregistration protection on and Packer's deletion of the input fails "+
			"(turn it off with `aws ec2 disable-image-deregistration-protection --region %s --image-id %s` once nothing needs it)",
			p.Image, strings.Join(p.Uses, "; "), p.Image.Region, p.Image.ImageID))
	}
	notes = append(notes, secured.Restored...)
	if err != nil {
		notes = append(notes, fmt.Sprintf("securing the build's image failed: %v", err))
	}
	for _, n := range notes {
		ui.Error("golden-lifecycle: " + n)
	}
	return fmt.Errorf("%w; %s", runErr, strings.Join(notes, "; "))
}

func refsText(refs []lifecycle.ImageRef) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// job turns the configuration and the artifact's images into what the executor does.
func (p *PostProcessor) job(ui packersdk.Ui, in amiref.Artifact, prov provenance) lifecycle.Job {
	c := &p.config
	built, copies := in.Built(c.Region)
	source := lifecycle.ImageRef{Region: built.Region, ImageID: built.ImageID}
	var also []lifecycle.ImageRef
	present := []string{source.Region}
	for _, r := range copies {
		also = append(also, lifecycle.ImageRef{Region: r.Region, ImageID: r.ImageID})
		present = append(present, r.Region)
	}
	copyTo := c.copyRegions(present)
	for _, r := range c.CopyTo {
		if !slices.Contains(copyTo, r) {
			ui.Message(fmt.Sprintf("copy_to: the image is already in %s, not copying it there", r))
		}
	}
	job := lifecycle.Job{
		Source:                           source,
		AlsoIn:                           also,
		SourceImageID:                    prov.sourceAMI,
		Tags:                             lifecycle.MergeTags(prov.tags(), c.Tags),
		SnapshotTags:                     c.SnapshotTags,
		CopyTo:                           copyTo,
		KMSKeyIDs:                        c.KMSKeyIDs,
		EncryptCopies:                    c.EncryptCopies,
		CopyTimeout:                      c.copyTimeout,
		ShareWithAccounts:                c.ShareWith,
		ShareWithOrgARNs:                 c.ShareWithOrgARNs,
		ShareWithOUARNs:                  c.ShareWithOUARNs,
		DeprecateAfter:                   c.deprecateAfter,
		DeregistrationProtection:         c.DeregistrationProtection.Enabled,
		DeregistrationProtectionCooldown: c.DeregistrationProtection.WithCooldown,
		SSMParameter:                     c.SSMParameter,
		DryRun:                           c.DryRun,
	}
	if c.Prune != nil {
		job.Prune = &lifecycle.PruneJob{Policy: c.policy(), Regions: c.Prune.Regions, DryRun: c.Prune.DryRun}
	}
	return job
}

// clients builds each region's clients once, from the shared access configuration.
func (p *PostProcessor) clients() lifecycle.ClientFactory {
	var mu sync.Mutex
	cache := map[string]lifecycle.RegionClients{}
	return func(ctx context.Context, region string) (lifecycle.RegionClients, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := cache[region]; ok {
			return c, nil
		}
		access := p.config.AccessConfig.ForRegion(region)
		ec2c, err := access.EC2Client(ctx)
		if err != nil {
			return lifecycle.RegionClients{}, fmt.Errorf("EC2 client for %s: %w", region, err)
		}
		ssmc, err := access.SSMClient(ctx)
		if err != nil {
			return lifecycle.RegionClients{}, fmt.Errorf("SSM client for %s: %w", region, err)
		}
		asc, err := access.AutoScalingClient(ctx)
		if err != nil {
			return lifecycle.RegionClients{}, fmt.Errorf("Auto Scaling client for %s: %w", region, err)
		}
		kmsc, err := access.KMSClient(ctx)
		if err != nil {
			return lifecycle.RegionClients{}, fmt.Errorf("KMS client for %s: %w", region, err)
		}
		c := lifecycle.RegionClients{EC2: ec2c, SSM: ssmc, AutoScaling: asc, KMS: kmsc}
		cache[region] = c
		return c, nil
	}
}

// accountID asks STS which account the credentials belong to: the prune deletes only that
// account's images.
func (p *PostProcessor) accountID(ctx context.Context) (string, error) {
	client, err := p.config.AccessConfig.STSClient(ctx)
	if err != nil {
		return "", err
	}
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("golden-lifecycle: finding the account to prune in (sts:GetCallerIdentity): %w", err)
	}
	return aws.ToString(out.Account), nil
}

// writeFiles writes the manifest and the prune report when configured.
func (p *PostProcessor) writeFiles(job lifecycle.Job, result lifecycle.Result, artifact *Artifact, prov provenance) error {
	c := &p.config
	var errs []error
	if c.Manifest != "" {
		m := lifecycle.NewManifest(job, result, time.Now())
		m.BuildName, m.BuildID, m.PackerVersion = c.PackerBuildName, prov.buildID, c.PackerCoreVersion
		if err := lifecycle.WriteJSON(c.Manifest, m); err != nil {
			errs = append(errs, fmt.Errorf("manifest: %w", err))
		} else {
			artifact.ManifestPath = c.Manifest
		}
	}
	if c.Prune != nil && c.Prune.Report != "" && result.Prune != nil {
		if err := lifecycle.WriteJSON(c.Prune.Report, result.Prune); err != nil {
			errs = append(errs, fmt.Errorf("prune.report: %w", err))
		} else {
			artifact.ReportPath = c.Prune.Report
		}
	}
	return errors.Join(errs...)
}
