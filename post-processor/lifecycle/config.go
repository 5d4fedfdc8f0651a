//go:generate packer-sdc struct-markdown
//go:generate packer-sdc mapstructure-to-hcl2 -type Config,PruneConfig,DeregistrationProtectionConfig

package lifecycle

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/awspp"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// Limits EC2 and SSM put on the options.
const (
	// maxDeprecation is how far ahead EC2 accepts a deprecation time.
	maxDeprecation = 10 * 365 * 24 * time.Hour
	// minPollInterval keeps the copy waiter from hammering DescribeImages.
	minPollInterval = time.Second
	// DefaultKeepTag is the tag key that keeps an image from being pruned when prune.keep_tag is
	// not set.
	DefaultKeepTag = "golden:keep"
)

// DeregistrationProtectionConfig turns on EC2's deregistration protection for every image.
//
// ```hcl
//
//	deregistration_protection {
//	  enabled       = true
//	  with_cooldown = true
//	}
//
// ```
type DeregistrationProtectionConfig struct {
	// Protect the image (and every copy) from deregistration. Defaults to `false`.
	Enabled bool `mapstructure:"enabled"`
	// Once protection is turned off, keep the image protected for another 24 hours. Defaults to
	// `false`.
	WithCooldown bool `mapstructure:"with_cooldown"`
}

// PruneConfig deletes older images of the same pipeline after distribution.
//
// An image is deleted only when ALL of these hold:
//   - it is owned by the account running the build, and `match_tags` and `name_pattern` select it;
//   - it is not among the `keep_latest` newest available selected images of its region;
//   - it is older than `older_than`;
//   - it is not the image this build produced, one of its copies, or the image it started from;
//   - it does not carry `keep_tag`, and deregistration protection is off;
//   - it is available or disabled (never pending);
//   - nothing uses it: no instance in any state but terminated, no launch template version
//     (`$Default`, `$Latest` or any older one, also through `resolve:ssm:` parameters), no Auto
//     Scaling group (launch template, mixed instances policy, launch configuration), no launch
//     configuration, and no SSM parameter of data type `aws:ec2:image` (nor `ssm_parameter`)
//     points at it.
//
// Its snapshots are deleted with it only when no remaining image uses them.
//
// ```hcl
//
//	prune {
//	  name_pattern = "golden-ubuntu-22.04-*"
//	  keep_latest  = 5
//	  older_than   = "30d"
//	}
//
// ```
type PruneConfig struct {
	// How many of the newest available selected images to keep in each region, whatever their age.
	// Defaults to `0`; `keep_latest` or `older_than` must be set.
	KeepLatest int `mapstructure:"keep_latest"`
	// Keep every image younger than this, e.g. `720h` or `30d` (whole days). An image is deleted
	// only if it is outside the `keep_latest` newest AND older than `older_than`. Unset: age keeps
	// nothing, only `keep_latest` decides.
	OlderThan string `mapstructure:"older_than"`
	// Select the pipeline's images by tags: an image must carry every one of these tags. Values may
	// use `*` and `?` wildcards. `match_tags` or `name_pattern` is required: the prune never acts
	// on all of an account's images.
	MatchTags map[string]string `mapstructure:"match_tags"`
	// Select the pipeline's images by name, e.g. `golden-ubuntu-22.04-*` (`*` and `?` are
	// wildcards). A pattern of wildcards alone is refused.
	NamePattern string `mapstructure:"name_pattern"`
	// A tag key that keeps an image forever, whatever its value. Defaults to `golden:keep`.
	KeepTag string `mapstructure:"keep_tag"`
	// The regions to prune. Defaults to the build region and every `copy_to` region.
	Regions []string `mapstructure:"regions"`
	// Delete the snapshots of deleted images that no remaining image uses. Defaults to `true`.
	DeleteSnapshots *bool `mapstructure:"delete_snapshots"`
	// Also delete images shared with other accounts (launch permissions, public) and images
	// launched recently (EC2's `LastLaunchedTime`, which counts launches from other accounts too:
	// within `older_than`, or 30 days without it). Defaults to `false`: such an image may be in use
	// where this account cannot see.
	IncludeShared bool `mapstructure:"include_shared"`
	// Plan and print the prune without deleting anything, even when the rest of the run is real.
	// Defaults to `false`.
	DryRun bool `mapstructure:"dry_run"`
	// The price of snapshot storage in USD per GiB-month, for the savings estimate. Defaults to
	// `0.05` (EBS standard snapshots).
	PricePerGiBMonth float64 `mapstructure:"price_per_gib_month"`
	// Write the prune plan as JSON to this file (it is also part of `manifest`).
	Report string `mapstructure:"report"`
}

// Config is the configuration of the golden-lifecycle post-processor.
type Config struct {
	common.PackerConfig  `mapstructure:",squash"`
	awsconf.AccessConfig `mapstructure:",squash"`

	// Tags to put on the image in every region. Provenance tags are added to them: `golden:build-id`,
	// `golden:build-name`, `golden:packer-version`, `golden:source-ami`, `golden:git-commit` and
	// `golden:git-ref` when set, and `golden:harden-profile`/`golden:harden-score` when the
	// artifact or `harden_report` carries them. Keys starting with `aws:` are reserved by AWS and
	// refused.
	Tags map[string]string `mapstructure:"tags"`
	// Tags to put on the snapshots of the image in every region, in addition to `tags` (a key in
	// both takes this value).
	SnapshotTags map[string]string `mapstructure:"snapshot_tags"`
	// The commit the image was built from, recorded as the `golden:git-commit` tag.
	GitCommit string `mapstructure:"git_commit"`
	// The branch or tag the image was built from, recorded as the `golden:git-ref` tag.
	GitRef string `mapstructure:"git_ref"`
	// The JSON report of the build's golden-harden provisioner (its `report` option), e.g.
	// `reports/harden.json`. Its profile and compliance score become the `golden:harden-profile`
	// and `golden:harden-score` tags. Set it whatever the builder: the artifacts of golden-ebs and
	// amazon-ebs do not carry the hardening result (a provisioner cannot hand it to the builder);
	// an artifact whose state does carry those keys wins over the report.
	// The file is read when the post-processor runs, after the provisioner wrote it: a missing file,
	// or one that is not a golden-harden report, fails the run before anything changes.
	HardenReport string `mapstructure:"harden_report"`

	// Regions to copy the image to. All copies run at once. The build region is skipped.
	CopyTo []string `mapstructure:"copy_to"`
	// The KMS key to encrypt the copy with, per region, e.g.
	// `{ "eu-west-1" = "alias/golden" }`. Key ids, `mrk-` multi-region key ids, aliases and their
	// ARNs are accepted. Every region must be in `copy_to`.
	KMSKeyIDs map[string]string `mapstructure:"kms_key_ids"`
	// Encrypt every copy: with the region's key from `kms_key_ids`, else with the account's default
	// EBS key. Defaults to `false`: a copy is encrypted when the source is, and since KMS keys are
	// regional, with the region's key from `kms_key_ids`, else with the account's default EBS key.
	EncryptCopies bool `mapstructure:"encrypt_copies"`
	// How long all copies together may take, e.g. `2h`. A copy still running then is deregistered
	// with its snapshots, and the post-processor fails. Defaults to `2h`.
	CopyTimeout string `mapstructure:"copy_timeout"`
	// How often a running copy is polled, e.g. `15s`. Defaults to `15s`.
	PollInterval string `mapstructure:"poll_interval"`

	// AWS account ids (12 digits) to share the image with, in every region. Their accounts also get
	// create-volume permission on the snapshots. An image that is, or whose copy would be, encrypted
	// with the AWS-managed key `aws/ebs` is never shared, with accounts, organizations or
	// organizational units: the run fails before changing anything (see the safety rules of sharing).
	ShareWith []string `mapstructure:"share_with"`
	// ARNs of AWS Organizations to share the image with, e.g.
	// `arn:aws:organizations::111122223333:organization/o-exampleorgid`.
	ShareWithOrgARNs []string `mapstructure:"share_with_org_arns"`
	// ARNs of organizational units to share the image with, e.g.
	// `arn:aws:organizations::111122223333:ou/o-exampleorgid/ou-ab12-cdefgh34`.
	ShareWithOUARNs []string `mapstructure:"share_with_ou_arns"`

	// Deprecate the image (and every copy) this long after the run, e.g. `2160h` or `90d`. At most
	// 10 years. Unset: no deprecation.
	DeprecateAfter string `mapstructure:"deprecate_after"`
	// Protect the image (and every copy) from deregistration. See the
	// `deregistration_protection` block below.
	DeregistrationProtection DeregistrationProtectionConfig `mapstructure:"deregistration_protection"`

	// An SSM parameter to publish the image id to in every region, e.g.
	// `/golden/ubuntu-22.04/latest`, as data type `aws:ec2:image` (so EC2 can launch from
	// `resolve:ssm:` with it). It is overwritten on every run.
	SSMParameter string `mapstructure:"ssm_parameter"`
	// Write a JSON manifest of the run to this file: every region's image id, snapshots, tags,
	// creation and deprecation times, SSM parameter, and the prune report. See the manifest section
	// below.
	Manifest string `mapstructure:"manifest"`

	// Delete older images of the same pipeline. See the `prune` block below.
	Prune *PruneConfig `mapstructure:"prune"`

	// Print every change the run would make (tags, copies, shares, deprecation, protection,
	// publication, prune plan) and make none. Defaults to `false`.
	DryRun bool `mapstructure:"dry_run"`

	ctx interpolate.Context

	// Parsed forms of the options above.
	copyTimeout    time.Duration
	pollInterval   time.Duration
	deprecateAfter time.Duration
	olderThan      time.Duration
}

var (
	accountIDSyntax = regexp.MustCompile(`^[0-9]{12}$`)
	// Compiled on first use, as roleARNSyntax (internal/awsconf) is: counted repetitions are costly to compile.
	orgARNSyntax = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}$`)
	})
	ouARNSyntax = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$`)
	})
	// kmsKeySyntax accepts what CopyImage's KmsKeyId does: a key id, a multi-region key id, an alias,
	// or the ARN of a key or alias.
	kmsKeySyntax = regexp.MustCompile(`^(` +
		`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|` +
		`mrk-[0-9a-f]{32}|` +
		`alias/[a-zA-Z0-9:/_-]+|` +
		`arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:[0-9]{12}:(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})|alias/[a-zA-Z0-9:/_-]+)` +
		`)$`)
	// ssmNameSyntax: a plain name, or a path of up to 15 levels starting with "/".
	ssmNameSyntax = regexp.MustCompile(`^(/?[a-zA-Z0-9_.-]+)(/[a-zA-Z0-9_.-]+)*$`)
)

// Prepare decodes raws and validates every option; each error names its option.
func (c *Config) Prepare(raws ...interface{}) error {
	if err := awspp.Decode("golden-lifecycle", c, &c.ctx, raws...); err != nil {
		return err
	}
	var errs awspp.Errors
	add := errs.Add
	add(c.AccessConfig.Prepare()...)
	add(validateTags("tags", c.Tags)...)
	add(validateTags("snapshot_tags", c.SnapshotTags)...)
	add(c.prepareCopies()...)
	add(c.prepareSharing()...)

	if c.DeprecateAfter != "" {
		d, err := lifecycle.ParseAge(c.DeprecateAfter)
		switch {
		case err != nil:
			add(fmt.Errorf("deprecate_after: %w", err))
		case d <= 0:
			add(fmt.Errorf("deprecate_after: must be more than zero"))
		case d > maxDeprecation:
			add(fmt.Errorf("deprecate_after: %s is beyond the 10 years EC2 accepts", c.DeprecateAfter))
		}
		c.deprecateAfter = d
	}
	if c.DeregistrationProtection.WithCooldown && !c.DeregistrationProtection.Enabled {
		add(errors.New("deregistration_protection.with_cooldown: requires enabled = true"))
	}
	if c.SSMParameter != "" {
		add(validateSSMName("ssm_parameter", c.SSMParameter)...)
	}
	if strings.HasSuffix(c.Manifest, "/") {
		add(fmt.Errorf("manifest: %q is a folder; name a file, e.g. manifest.json", c.Manifest))
	}
	if strings.HasSuffix(c.HardenReport, "/") {
		add(fmt.Errorf("harden_report: %q is a folder; name golden-harden's JSON report, e.g. reports/harden.json", c.HardenReport))
	}
	if c.Prune != nil {
		add(c.preparePrune()...)
	}
	return errs.Err()
}

// validRegions checks a list of regions: each known (or well formed, with
// skip_region_validation), none listed twice.
func (c *Config) validRegions(option string, regions []string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, r := range regions {
		if err := c.CheckRegion(option, r); err != nil {
			errs = append(errs, err)
		}
		if seen[r] {
			errs = append(errs, fmt.Errorf("%s: %q is listed twice", option, r))
		}
		seen[r] = true
	}
	return errs
}

func (c *Config) prepareCopies() []error {
	errs := c.validRegions("copy_to", c.CopyTo)
	for region, key := range c.KMSKeyIDs {
		if !slices.Contains(c.CopyTo, region) {
			errs = append(errs, fmt.Errorf("kms_key_ids: region %q is not in copy_to", region))
		}
		if !kmsKeySyntax.MatchString(key) {
			errs = append(errs, fmt.Errorf("kms_key_ids: %q (for %s) is not a KMS key id, multi-region key id, alias or ARN", key, region))
		}
	}
	var err error
	if c.copyTimeout, err = parseDuration("copy_timeout", c.CopyTimeout, lifecycle.DefaultCopyTimeout); err != nil {
		errs = append(errs, err)
	}
	if c.pollInterval, err = parseDuration("poll_interval", c.PollInterval, lifecycle.DefaultPollInterval); err != nil {
		errs = append(errs, err)
	} else if c.pollInterval < minPollInterval {
		errs = append(errs, fmt.Errorf("poll_interval: must be at least %s", minPollInterval))
	}
	return errs
}

func parseDuration(option, value string, def time.Duration) (time.Duration, error) {
	if value == "" {
		return def, nil
	}
	d, err := lifecycle.ParseAge(value)
	if err != nil {
		return def, fmt.Errorf("%s: %w", option, err)
	}
	if d <= 0 {
		return def, fmt.Errorf("%s: must be more than zero", option)
	}
	return d, nil
}

// sharing reports whether the image is shared at all.
func (c *Config) sharing() bool {
	return len(c.ShareWith)+len(c.ShareWithOrgARNs)+len(c.ShareWithOUARNs) > 0
}

func (c *Config) prepareSharing() []error {
	var errs []error
	for _, a := range c.ShareWith {
		if !accountIDSyntax.MatchString(a) {
			errs = append(errs, fmt.Errorf("share_with: %q is not an AWS account id (12 digits)", a))
		}
	}
	for _, a := range c.ShareWithOrgARNs {
		if !orgARNSyntax().MatchString(a) {
			errs = append(errs, fmt.Errorf("share_with_org_arns: %q is not an organization ARN (arn:aws:organizations::ACCOUNT:organization/o-...)", a))
		}
	}
	for _, a := range c.ShareWithOUARNs {
		if !ouARNSyntax().MatchString(a) {
			errs = append(errs, fmt.Errorf("share_with_ou_arns: %q is not an organizational unit ARN (arn:aws:organizations::ACCOUNT:ou/o-.../ou-...)", a))
		}
	}
	if !c.sharing() {
		return errs
	}
	// A shared image encrypted with the AWS-managed key cannot be launched by anyone else. What
	// can be known now is checked now: the aws/ebs alias. EC2 reports the keys of the image's
	// snapshots by key ARN, so those, and keys given here by id or ARN, are resolved with KMS
	// DescribeKey before the run's first change.
	for region, key := range c.KMSKeyIDs {
		if lifecycle.IsAWSManagedEBSKey(key) {
			errs = append(errs, fmt.Errorf("kms_key_ids: %s uses the AWS-managed key %q, which other accounts cannot use; the image is shared (share_with...), so use a customer managed key", region, key))
		}
	}
	if c.EncryptCopies {
		var missing []string
		for _, r := range c.CopyTo {
			if c.KMSKeyIDs[r] == "" {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("encrypt_copies: the copies to %s would be encrypted with the default AWS-managed key, which the accounts the image is shared with cannot use; set kms_key_ids for them",
				strings.Join(missing, ", ")))
		}
	}
	return errs
}

func validateTags(option string, tags map[string]string) []error {
	var errs []error
	for k, v := range tags {
		switch {
		case k == "":
			errs = append(errs, fmt.Errorf("%s: empty tag key", option))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			errs = append(errs, fmt.Errorf("%s: tag key %q starts with aws:, which AWS reserves", option, k))
		case len(k) > 128:
			errs = append(errs, fmt.Errorf("%s: tag key %q is longer than 128 characters", option, k))
		}
		if len(v) > 256 {
			errs = append(errs, fmt.Errorf("%s: the value of %q is longer than 256 characters", option, k))
		}
	}
	return errs
}

// validateSSMName checks a parameter name the way SSM does: letters, digits and _.-, "/" to form a
// path of at most 15 levels, no reserved aws/ssm prefix.
func validateSSMName(option, name string) []error {
	var errs []error
	lower := strings.ToLower(strings.TrimPrefix(name, "/"))
	switch {
	case len(name) > 1011:
		errs = append(errs, fmt.Errorf("%s: longer than 1011 characters", option))
	case !ssmNameSyntax.MatchString(name):
		errs = append(errs, fmt.Errorf("%s: %q is not a parameter name (letters, digits, _ . - and / for a path starting with /, e.g. /golden/ubuntu/latest)", option, name))
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		errs = append(errs, fmt.Errorf("%s: a parameter path must start with /, got %q", option, name))
	case strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm"):
		errs = append(errs, fmt.Errorf("%s: %q starts with aws or ssm, which SSM reserves", option, name))
	case strings.Count(name, "/") > 15:
		errs = append(errs, fmt.Errorf("%s: %q has more than 15 levels", option, name))
	}
	return errs
}

func (c *Config) preparePrune() []error {
	p := c.Prune
	var errs []error
	if p.KeepLatest < 0 {
		errs = append(errs, fmt.Errorf("prune.keep_latest: must be 0 or more, got %d", p.KeepLatest))
	}
	if p.OlderThan != "" {
		d, err := lifecycle.ParseAge(p.OlderThan)
		if err != nil {
			errs = append(errs, fmt.Errorf("prune.older_than: %w", err))
		}
		c.olderThan = d
	}
	if p.KeepLatest <= 0 && c.olderThan <= 0 {
		errs = append(errs, errors.New("prune.keep_latest or prune.older_than: set at least one, or every unused image of the pipeline is deleted"))
	}
	if len(p.MatchTags) == 0 && strings.TrimSpace(p.NamePattern) == "" {
		errs = append(errs, errors.New("prune.match_tags or prune.name_pattern: required, to select this pipeline's images (the prune never acts on all of an account's images)"))
	}
	if p.NamePattern != "" && strings.Trim(p.NamePattern, "*?") == "" {
		errs = append(errs, fmt.Errorf("prune.name_pattern: %q matches every image name; name the pipeline's images, e.g. golden-ubuntu-*", p.NamePattern))
	}
	for k := range p.MatchTags {
		if k == "" {
			errs = append(errs, errors.New("prune.match_tags: empty tag key"))
		}
	}
	if p.KeepTag == "" {
		p.KeepTag = DefaultKeepTag
	}
	errs = append(errs, c.validRegions("prune.regions", p.Regions)...)
	if p.DeleteSnapshots == nil {
		p.DeleteSnapshots = boolPtr(true)
	}
	if p.PricePerGiBMonth < 0 {
		errs = append(errs, fmt.Errorf("prune.price_per_gib_month: must be 0 or more, got %v", p.PricePerGiBMonth))
	}
	if p.PricePerGiBMonth == 0 {
		p.PricePerGiBMonth = lifecycle.DefaultPricePerGiBMonth
	}
	if strings.HasSuffix(p.Report, "/") {
		errs = append(errs, fmt.Errorf("prune.report: %q is a folder; name a file, e.g. prune.json", p.Report))
	}
	return errs
}

func boolPtr(b bool) *bool { return &b }

// policy is the prune policy the planner applies.
func (c *Config) policy() lifecycle.PrunePolicy {
	p := c.Prune
	return lifecycle.PrunePolicy{
		KeepLatest:       p.KeepLatest,
		OlderThan:        c.olderThan,
		MatchTags:        p.MatchTags,
		NamePattern:      p.NamePattern,
		KeepTag:          p.KeepTag,
		DeleteSnapshots:  p.DeleteSnapshots == nil || *p.DeleteSnapshots,
		IncludeShared:    p.IncludeShared,
		PricePerGiBMonth: p.PricePerGiBMonth,
	}
}

// copyRegions drops the regions the image is already in from copy_to.
func (c *Config) copyRegions(present []string) []string {
	var out []string
	for _, r := range c.CopyTo {
		if !slices.Contains(present, r) {
			out = append(out, r)
		}
	}
	return out
}
