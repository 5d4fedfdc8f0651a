//go:generate packer-sdc struct-markdown
//go:generate packer-sdc mapstructure-to-hcl2 -type Config,Target

package validate

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/awspp"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
	"github.com/golden-ami/packer-plugin-golden/internal/probe"
	"github.com/golden-ami/packer-plugin-golden/internal/unknown"
)

// Defaults of the options.
const (
	DefaultInstanceType     = "t3.micro"
	DefaultCloudInitTimeout = 10 * time.Minute
	DefaultHardenReportPath = "/var/log/golden/harden-report.json"
)

// What on_failure does to the image when a probe fails.
const (
	OnFailureKeep       = "keep"
	OnFailureDeprecate  = "deprecate"
	OnFailureDeregister = "deregister"
)

var onFailureValues = []string{OnFailureKeep, OnFailureDeprecate, OnFailureDeregister}

// Target is one place the image is validated in: a region and an instance type. Every target
// gets its own instance, and all targets run at once.
//
// ```hcl
//
//	target {
//	  region        = "us-east-1"
//	  instance_type = "t3.micro"
//	}
//	target {
//	  region        = "eu-west-1"
//	  instance_type = "m7g.medium"
//	}
//
// ```
type Target struct {
	// The region to launch in. The artifact must hold an image in it (its build region or a copy
	// its builder made). Defaults to the build region.
	Region string `mapstructure:"region" required:"false"`
	// The instance type to launch, e.g. `t3.micro` or `m7g.medium` (an arm64 image needs an arm64
	// type). Defaults to `instance_type`.
	InstanceType string `mapstructure:"instance_type" required:"false"`
	// The subnet to launch in within this region. Defaults to `subnet_id` when the target is in
	// the post-processor's region, else to the default subnet of the region's default VPC.
	SubnetID string `mapstructure:"subnet_id" required:"false"`
}

// Config is the configuration of golden-validate.
type Config struct {
	common.PackerConfig  `mapstructure:",squash"`
	awsconf.AccessConfig `mapstructure:",squash"`
	// The launch options golden-ebs has too: instance type, network, temporary key pair and
	// security group, IMDS, run tags, sweep of orphans, SSH. `instance_type` defaults to
	// `t3.micro`; `ssh_username` is required (the image's default user, e.g. `ubuntu` or
	// `admin`).
	launch.RunConfig `mapstructure:",squash"`

	// Where to validate the image: one `target` block per region and instance type. Defaults to
	// one target: the build region with `instance_type`. See the `target` block below.
	Targets []Target `mapstructure:"target" required:"false"`

	// How long `cloud-init status --wait` may take on the booted instance before the validation
	// fails, e.g. `5m`. Skipped on images without cloud-init. Defaults to `10m`.
	CloudInitTimeout time.Duration `mapstructure:"cloud_init_timeout" required:"false"`
	// How long a failing probe is asked again after the checks start, before it counts as failed:
	// the time services get to converge after the boot. A probe's own `timeout` overrides it.
	// Defaults to `2m`.
	ProbeTimeout time.Duration `mapstructure:"probe_timeout" required:"false"`
	// The time between two attempts of a failing probe. Defaults to `2s`.
	ProbeInterval time.Duration `mapstructure:"probe_interval" required:"false"`

	// A systemd unit must (not) be running or enabled. See the `service` block below.
	Services []probe.Service `mapstructure:"service" required:"false"`
	// A package must (not) be installed, optionally at a version. See the `package` block below.
	Packages []probe.Package `mapstructure:"package" required:"false"`
	// Something must (not) listen on a port. See the `port` block below.
	Ports []probe.Port `mapstructure:"port" required:"false"`
	// A file's existence, type, mode, owner and contents. See the `file` block below.
	Files []probe.File `mapstructure:"file" required:"false"`
	// A kernel parameter's value as the booted kernel has it. See the `sysctl` block below.
	Sysctls []probe.Sysctl `mapstructure:"sysctl" required:"false"`
	// A mount point, its file system and options. See the `mount` block below.
	Mounts []probe.Mount `mapstructure:"mount" required:"false"`
	// A user account and its attributes. See the `user` block below.
	Users []probe.User `mapstructure:"user" required:"false"`
	// A group and its id. See the `group` block below.
	Groups []probe.Group `mapstructure:"group" required:"false"`
	// A process must (not) run. See the `process` block below.
	Processes []probe.Process `mapstructure:"process" required:"false"`
	// A command's exit status and output. See the `command` block below.
	Commands []probe.Command `mapstructure:"command" required:"false"`
	// An HTTP request made from the instance itself. See the `http` block below.
	HTTP []probe.HTTP `mapstructure:"http" required:"false"`

	// Audit the booted instance with golden-harden (audit mode: nothing is changed) against the
	// report its build left on the image (`harden_report_path`): every control that passed or was
	// fixed at build time must pass after the boot, and each one that does not is named. The
	// image must have been built with golden-harden. Defaults to `false`.
	HardeningAudit bool `mapstructure:"hardening_audit" required:"false"`
	// Where golden-harden's report is on the image (its `remote_report` option). Defaults to
	// `/var/log/golden/harden-report.json`.
	HardenReportPath string `mapstructure:"harden_report_path" required:"false"`
	// A request to the metadata service without a session token, made from the instance, must be
	// refused: IMDSv1 is off. Defaults to `false`.
	IMDSv2Enforced bool `mapstructure:"imdsv2_enforced" required:"false"`
	// The image carries nothing of its build: no SSH key but the one this validation launched
	// with, no shell history, no Packer or golden-harden temporary files, no build report readable
	// by every user. Defaults to `false`.
	NoBuildLeftovers bool `mapstructure:"no_build_leftovers" required:"false"`
	// Tags the image must carry: `Key` (any value) or `Key=Value`, e.g.
	// `["Team", "Environment=production"]`. Checked on the image in each target's region.
	RequiredTags []string `mapstructure:"required_tags" required:"false"`
	// A goss file (YAML) whose resources become probes, read natively: no goss binary runs on the
	// image. Resources of the types `service`, `package`, `port`, `file`, `kernel-param`, `mount`,
	// `user`, `group`, `process`, `command` and `http` are mapped (see the mapping table);
	// anything else is an error at `packer validate` naming the resource and its line.
	GossFile string `mapstructure:"goss_file" required:"false"`

	// What to do with the image when a probe fails, after it is tagged `golden:validation =
	// failed`: `keep` (the default) leaves it, `deprecate` deprecates it now in every region (so
	// that it stops showing in listings), `deregister` deregisters it and deletes its snapshots in
	// every region. Packer itself deletes a builder's artifact when a post-processor fails unless
	// the block sets `keep_input_artifact = true`.
	OnFailure string `mapstructure:"on_failure" required:"false"`
	// On a failed validation, keep the instance (and its security group) for debugging: the
	// post-processor prints its address, the user and where the private key was written
	// (`golden-validate-<build id>.pem` in the working directory, mode 0600). The instance keeps
	// its `golden:expires-at` tag, so the next run's `sweep_orphans` removes it once
	// `temporary_resources_ttl` has passed. Defaults to `false`.
	KeepOnFailure bool `mapstructure:"keep_on_failure" required:"false"`

	// Write the results as JUnit XML to this file: one test suite per target, one test case per
	// probe. Unset: no file.
	JUnitReport string `mapstructure:"junit_report" required:"false"`
	// Write the results as JSON to this file: per target, every probe with its status, message,
	// evidence and attempts, and the console output of a failed target. Unset: no file.
	JSONReport string `mapstructure:"json_report" required:"false"`
	// Write the Markdown summary (also printed in the build's output) to this file, e.g. for a
	// pull request comment. Unset: no file.
	MarkdownReport string `mapstructure:"markdown_report" required:"false"`

	ctx interpolate.Context

	// gossProbes are the probes goss_file maps to.
	gossProbes []probe.Probe
	// regionFromArtifact is set when no region was given: the build region is used.
	regionFromArtifact bool
}

// Prepare decodes raws and validates every option; each error names its option.
func (c *Config) Prepare(raws ...interface{}) error {
	if err := awspp.Decode(component, c, &c.ctx, raws...); err != nil {
		return err
	}
	var errs awspp.Errors
	add := errs.Add
	// The region is optional: without one (and without AWS_REGION) the build region is used.
	for _, err := range c.AccessConfig.Prepare() {
		if c.Region == "" && strings.HasPrefix(err.Error(), "region: required") {
			c.regionFromArtifact = true
			continue
		}
		add(err)
	}
	if c.InstanceType == "" && len(c.InstanceTypes) == 0 {
		c.InstanceType = DefaultInstanceType
	}
	add(c.RunConfig.Prepare(&c.ctx)...)
	if c.Comm.Type == "none" {
		add(errors.New("communicator: golden-validate probes the instance over SSH; none is not possible"))
	}
	add(c.prepareTargets()...)
	add(c.prepareDurations()...)
	add(c.prepareProbes()...)

	if c.OnFailure == "" {
		c.OnFailure = OnFailureKeep
	}
	if !slices.Contains(onFailureValues, c.OnFailure) {
		add(fmt.Errorf("on_failure: %q is not one of %s", c.OnFailure, strings.Join(onFailureValues, ", ")))
	}
	if c.KeepOnFailure && c.OnFailure == OnFailureDeregister {
		add(errors.New("keep_on_failure: cannot be combined with on_failure = \"deregister\": the kept instance would run an image that no longer exists"))
	}
	for option, file := range map[string]string{"junit_report": c.JUnitReport, "json_report": c.JSONReport, "markdown_report": c.MarkdownReport} {
		if strings.HasSuffix(file, "/") {
			add(fmt.Errorf("%s: %q is a folder; name a file", option, file))
		}
	}
	return errs.Err()
}

func (c *Config) prepareTargets() []error {
	var errs []error
	seen := map[string]bool{}
	for i, t := range c.Targets {
		where := fmt.Sprintf("target[%d]", i)
		if t.Region != "" {
			if err := c.CheckRegion(where+".region", t.Region); err != nil {
				errs = append(errs, err)
			}
		}
		if t.InstanceType != "" && !launch.ValidInstanceType(t.InstanceType) {
			errs = append(errs, fmt.Errorf("%s.instance_type: %q is not an instance type (family.size, e.g. t3.small)", where, t.InstanceType))
		}
		if t.SubnetID != "" && !unknown.Is(t.SubnetID) && !launch.ValidSubnetID(t.SubnetID) {
			errs = append(errs, fmt.Errorf("%s.subnet_id: %q is not a subnet id (subnet- and 8 or 17 hex digits)", where, t.SubnetID))
		}
		key := t.Region + "/" + t.InstanceType
		if seen[key] {
			errs = append(errs, fmt.Errorf("%s: region %q and instance type %q are listed twice", where, t.Region, t.InstanceType))
		}
		seen[key] = true
	}
	return errs
}

func (c *Config) prepareDurations() []error {
	var errs []error
	nonNegative := func(option string, d *time.Duration, def time.Duration) {
		switch {
		case *d < 0:
			errs = append(errs, fmt.Errorf("%s: %s is negative", option, *d))
		case *d == 0:
			*d = def
		}
	}
	nonNegative("cloud_init_timeout", &c.CloudInitTimeout, DefaultCloudInitTimeout)
	nonNegative("probe_timeout", &c.ProbeTimeout, probe.DefaultTimeout)
	nonNegative("probe_interval", &c.ProbeInterval, probe.DefaultInterval)
	if c.ProbeInterval > c.ProbeTimeout {
		errs = append(errs, fmt.Errorf("probe_interval: %s is longer than probe_timeout (%s)", c.ProbeInterval, c.ProbeTimeout))
	}
	return errs
}

func (c *Config) prepareProbes() []error {
	var errs []error
	if c.HardenReportPath == "" {
		c.HardenReportPath = DefaultHardenReportPath
	}
	if !path.IsAbs(c.HardenReportPath) {
		errs = append(errs, fmt.Errorf("harden_report_path: %q is not an absolute path", c.HardenReportPath))
	}
	for _, tag := range c.RequiredTags {
		key, _, _ := strings.Cut(tag, "=")
		if strings.TrimSpace(key) == "" {
			errs = append(errs, fmt.Errorf("required_tags: %q has no key; write Key or Key=Value", tag))
		}
	}
	if c.GossFile != "" {
		data, err := os.ReadFile(c.GossFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("goss_file: %w", err))
		} else if c.gossProbes, err = probe.Goss(c.GossFile, data); err != nil {
			errs = append(errs, fmt.Errorf("goss_file: %w", err))
		}
	}
	for _, err := range probe.Validate(c.Probes()) {
		errs = append(errs, err)
	}
	if len(c.Probes()) == 0 && !c.HardeningAudit && len(c.RequiredTags) == 0 {
		errs = append(errs, errors.New("no probe: add probe blocks (service, package, port, file, sysctl, mount, user, group, process, command, http), goss_file, or a built-in (hardening_audit, imdsv2_enforced, no_build_leftovers, required_tags)"))
	}
	return errs
}

// Probes is every probe that runs in the probe script, in the order the template gives them:
// the blocks by type, then the goss file's, then the built-ins.
func (c *Config) Probes() []probe.Probe {
	var out []probe.Probe
	out = appendProbes(out, c.Services)
	out = appendProbes(out, c.Packages)
	out = appendProbes(out, c.Ports)
	out = appendProbes(out, c.Files)
	out = appendProbes(out, c.Sysctls)
	out = appendProbes(out, c.Mounts)
	out = appendProbes(out, c.Users)
	out = appendProbes(out, c.Groups)
	out = appendProbes(out, c.Processes)
	out = appendProbes(out, c.Commands)
	out = appendProbes(out, c.HTTP)
	out = append(out, c.gossProbes...)
	if c.IMDSv2Enforced {
		out = append(out, &probe.IMDSv2{})
	}
	return out
}

// appendProbes appends a pointer to each element: the probe types' methods have pointer
// receivers, and Validate stores what it parsed in the element itself.
func appendProbes[T any, P interface {
	*T
	probe.Probe
}](out []probe.Probe, items []T) []probe.Probe {
	for i := range items {
		out = append(out, P(&items[i]))
	}
	return out
}
