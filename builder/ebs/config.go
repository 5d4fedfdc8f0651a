//go:generate packer-sdc struct-markdown
//go:generate packer-sdc mapstructure-to-hcl2 -type Config,AMIFilter,RootVolume,DeregistrationProtection

package ebs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
	"github.com/golden-ami/packer-plugin-golden/internal/unknown"
)

// AMIFilter selects the source AMI by DescribeImages filters.
type AMIFilter struct {
	// DescribeImages filters the image must match, e.g.
	// `{ name = "ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*", virtualization-type = "hvm" }`.
	Filters map[string]string `mapstructure:"filters" required:"true"`
	// The accounts whose images are searched: account IDs, `self`, or the aliases `amazon` and
	// `aws-marketplace`. Required: picking the newest image by name among every public AMI
	// would let anyone publish the image your build starts from.
	Owners []string `mapstructure:"owners" required:"true"`
	// When several images match, take the one created last. Defaults to `false`: then more than
	// one match is an error that lists them.
	MostRecent bool `mapstructure:"most_recent" required:"false"`
	// Also consider images whose deprecation time has passed. Defaults to `false`.
	IncludeDeprecated bool `mapstructure:"include_deprecated" required:"false"`
}

// RootVolume is the instance's root volume, and so the image's root snapshot.
type RootVolume struct {
	// The size in GiB. Defaults to the source image's root snapshot size; it cannot be smaller.
	VolumeSize int32 `mapstructure:"volume_size" required:"false"`
	// The volume type: `gp3` (the default), `gp2`, `io1`, `io2`, `st1`, `sc1` or `standard`.
	VolumeType string `mapstructure:"volume_type" required:"false"`
	// Provisioned IOPS, for `gp3` (3000-16000), `io1` and `io2` (100-256000). Defaults to the
	// type's baseline.
	IOPS int32 `mapstructure:"iops" required:"false"`
	// Throughput in MiB/s, for `gp3` only (125-1000). Defaults to 125.
	Throughput int32 `mapstructure:"throughput" required:"false"`
	// Encrypt the volume, and so the image's snapshot. Defaults to `true`; an unencrypted source
	// is encrypted at launch.
	Encrypted config.Trilean `mapstructure:"encrypted" required:"false"`
	// The KMS key to encrypt with: key id, key ARN, alias (`alias/golden`) or alias ARN. Defaults
	// to the account's default EBS key (`aws/ebs`), which no other account can use: set a
	// customer managed key for images you share.
	KMSKeyID string `mapstructure:"kms_key_id" required:"false"`
}

// DeregistrationProtection keeps the image from being deregistered until protection is turned off.
type DeregistrationProtection struct {
	// Turn protection on once the image is available. Defaults to `false`.
	Enabled bool `mapstructure:"enabled" required:"false"`
	// Keep the image protected for 24 hours after protection is turned off. Defaults to `false`.
	WithCooldown bool `mapstructure:"with_cooldown" required:"false"`
}

// Config is the configuration of golden-ebs.
type Config struct {
	common.PackerConfig  `mapstructure:",squash"`
	awsconf.AccessConfig `mapstructure:",squash"`
	launch.RunConfig     `mapstructure:",squash"`

	// The id of the AMI to start from, e.g. `ami-0a1b2c3d4e5f60718`. One of `source_ami`,
	// `source_ami_filter`, `source_ami_ssm_parameter` and `source_os` is required.
	SourceAMI string `mapstructure:"source_ami" required:"false"`
	// Picks the source AMI by filters and owners. See the `source_ami_filter` block below.
	SourceAMIFilter AMIFilter `mapstructure:"source_ami_filter" required:"false"`
	// An SSM parameter holding the source AMI's id, e.g. `/golden/ubuntu-22.04/latest` as
	// golden-lifecycle writes it. It must name an AMI of the build region.
	SourceAMISSMParameter string `mapstructure:"source_ami_ssm_parameter" required:"false"`
	// The vendor's current image of an operating system: `ubuntu-22.04`, `ubuntu-24.04`,
	// `ubuntu-26.04`, `debian-12`, `debian-13` or `al2023`. The image is read from the vendor's
	// public SSM parameter for the instance type's architecture and must be owned by the vendor;
	// `ssh_username` defaults to the vendor's user (`ubuntu`, `admin`, `ec2-user`).
	SourceOS string `mapstructure:"source_os" required:"false"`

	// The name of the AMI, e.g. `golden-ubuntu-22.04-{{timestamp}}`: 3 to 128 characters of
	// letters, digits and `( ) [ ] . / - ' @ _` or space. An AMI of the account with this name
	// makes the build fail before anything is launched.
	AMIName string `mapstructure:"ami_name" required:"true"`
	// The description of the AMI, up to 255 characters. Defaults to none.
	AMIDescription string `mapstructure:"ami_description" required:"false"`
	// Tags for the AMI, e.g. `{ Team = "platform" }`. Defaults to none; the build adds
	// `golden:build-id` and `golden:source-ami` in any case.
	Tags map[string]string `mapstructure:"tags" required:"false"`
	// Tags for the AMI's snapshots. Defaults to none (not the AMI's `tags`); the build adds
	// `golden:build-id` and `golden:source-ami` in any case.
	SnapshotTags map[string]string `mapstructure:"snapshot_tags" required:"false"`
	// The instance's root volume. See the `root_volume` block below.
	RootVolume RootVolume `mapstructure:"root_volume" required:"false"`
	// Set on the AMI so that instances launched from it require IMDSv2. `v2.0` (the default) or
	// `none` to leave the AMI's setting alone. Once set, AWS does not let it be unset.
	IMDSSupport string `mapstructure:"imds_support" required:"false"`
	// The boot mode the image must have: `legacy-bios`, `uefi` or `uefi-preferred`. An image
	// keeps the boot mode of its source, so a source with another boot mode fails the build
	// before launch. Defaults to the source's.
	BootMode string `mapstructure:"boot_mode" required:"false"`
	// `v2.0` to require a source image with NitroTPM support (it is inherited). Defaults to the
	// source's.
	TPMSupport string `mapstructure:"tpm_support" required:"false"`
	// Turn ENA (enhanced networking) support on (`true`) or off (`false`) on the stopped
	// instance before it is imaged. Defaults to the source's setting.
	ENASupport config.Trilean `mapstructure:"ena_support" required:"false"`
	// Protect the AMI against deregistration. See the `deregistration_protection` block below.
	DeregistrationProtection DeregistrationProtection `mapstructure:"deregistration_protection" required:"false"`

	ctx interpolate.Context
}

var (
	// AWS's AMI name rule: 3-128 characters of letters, digits, ( ) [ ] . / - ' @ _ and space.
	// Compiled on first use, as roleARNSyntax (internal/awsconf) is: counted repetitions are costly to compile.
	amiNameSyntax  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9()\[\]./\-'@_ ]{3,128}$`) })
	ssmNameSyntax  = regexp.MustCompile(`^/?[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$`)
	accountSyntax  = regexp.MustCompile(`^[0-9]{12}$`)
	ownerAliases   = []string{"self", "amazon", "aws-marketplace"}
	volumeTypes    = []string{"gp3", "gp2", "io1", "io2", "st1", "sc1", "standard"}
	bootModes      = []string{"legacy-bios", "uefi", "uefi-preferred"}
	imdsSupports   = []string{"v2.0", "none"}
	kmsKeySyntax   = regexp.MustCompile(`^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+|alias/[a-zA-Z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	descriptionMax = 255
)

// Prepare validates every option and fills the defaults; every error names its option.
func (c *Config) Prepare(clearKeysSet bool) error {
	var errs *packersdk.MultiError
	errs = packersdk.MultiErrorAppend(errs, c.AccessConfig.Prepare()...)
	errs = packersdk.MultiErrorAppend(errs, c.prepareSource()...)
	if c.SourceOS != "" && c.Comm.SSHUsername == "" {
		if os, ok := sourceOSes[c.SourceOS]; ok {
			c.Comm.SSHUsername = os.user
		}
	}
	if !clearKeysSet {
		c.Comm.SSHClearAuthorizedKeys = true
	}
	errs = packersdk.MultiErrorAppend(errs, c.RunConfig.Prepare(&c.ctx)...)
	errs = packersdk.MultiErrorAppend(errs, c.prepareImage()...)
	errs = packersdk.MultiErrorAppend(errs, c.RootVolume.prepare()...)
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

func (c *Config) prepareSource() []error {
	var errs []error
	set := map[string]bool{
		"source_ami":               c.SourceAMI != "",
		"source_ami_filter":        c.SourceAMIFilter.Filters != nil || c.SourceAMIFilter.Owners != nil,
		"source_ami_ssm_parameter": c.SourceAMISSMParameter != "",
		"source_os":                c.SourceOS != "",
	}
	var named []string
	for option, ok := range set {
		if ok {
			named = append(named, option)
		}
	}
	slices.Sort(named)
	switch len(named) {
	case 0:
		errs = append(errs, fmt.Errorf("source_ami, source_ami_filter, source_ami_ssm_parameter or source_os: one is required"))
	case 1:
	default:
		errs = append(errs, fmt.Errorf("%s: set only one of them", strings.Join(named, ", ")))
	}
	if c.SourceAMI != "" && !unknown.Is(c.SourceAMI) && !amiref.ValidImageID(c.SourceAMI) {
		errs = append(errs, fmt.Errorf("source_ami: %q is not an AMI id (ami- and 8 or 17 hex digits)", c.SourceAMI))
	}
	if set["source_ami_filter"] {
		f := c.SourceAMIFilter
		if len(f.Filters) == 0 {
			errs = append(errs, fmt.Errorf("source_ami_filter.filters: required, e.g. { name = \"ubuntu/images/*ubuntu-jammy-22.04-amd64-server-*\" }"))
		}
		for name, value := range f.Filters {
			if strings.TrimSpace(name) == "" || value == "" {
				errs = append(errs, fmt.Errorf("source_ami_filter.filters: names and values must not be empty"))
				break
			}
		}
		if len(f.Owners) == 0 {
			errs = append(errs, fmt.Errorf("source_ami_filter.owners: required: name the accounts whose images may be used (an account ID, self, amazon); without owners anyone could publish the image the build starts from"))
		}
		for _, o := range f.Owners {
			if !slices.Contains(ownerAliases, o) && !accountSyntax.MatchString(o) {
				errs = append(errs, fmt.Errorf("source_ami_filter.owners: %q is neither an account ID (12 digits) nor one of %s", o, strings.Join(ownerAliases, ", ")))
			}
		}
	}
	if c.SourceAMISSMParameter != "" && !ssmNameSyntax.MatchString(c.SourceAMISSMParameter) {
		errs = append(errs, fmt.Errorf("source_ami_ssm_parameter: %q is not a parameter name", c.SourceAMISSMParameter))
	}
	if c.SourceOS != "" {
		if _, ok := sourceOSes[c.SourceOS]; !ok {
			errs = append(errs, fmt.Errorf("source_os: %q is not one of %s", c.SourceOS, sourceOSNames()))
		} else {
			archs := map[string]bool{}
			for _, it := range c.InstanceTypeList() {
				archs[architectureOf(it)] = true
			}
			if len(archs) > 1 {
				errs = append(errs, fmt.Errorf("instance_types: mixes x86_64 and arm64 types; source_os picks one image, for one architecture"))
			}
		}
	}
	return errs
}

func (c *Config) prepareImage() []error {
	var errs []error
	switch {
	case c.AMIName == "":
		errs = append(errs, fmt.Errorf("ami_name: required"))
	case !amiNameSyntax().MatchString(c.AMIName):
		errs = append(errs, fmt.Errorf("ami_name: %q must be 3 to 128 characters of letters, digits, spaces and ( ) [ ] . / - ' @ _", c.AMIName))
	}
	if len(c.AMIDescription) > descriptionMax {
		errs = append(errs, fmt.Errorf("ami_description: %d characters; AWS allows %d", len(c.AMIDescription), descriptionMax))
	}
	errs = append(errs, launch.ValidateTags("tags", c.Tags)...)
	errs = append(errs, launch.ValidateTags("snapshot_tags", c.SnapshotTags)...)
	if c.IMDSSupport == "" {
		c.IMDSSupport = "v2.0"
	}
	if !slices.Contains(imdsSupports, c.IMDSSupport) {
		errs = append(errs, fmt.Errorf("imds_support: %q is not v2.0 or none", c.IMDSSupport))
	}
	if c.IMDSSupport == "v2.0" && c.MetadataOptions.HTTPTokens == "optional" {
		errs = append(errs, fmt.Errorf("metadata_options.http_tokens: optional contradicts imds_support = \"v2.0\"; set imds_support = \"none\" to build an image that allows IMDSv1"))
	}
	if c.BootMode != "" && !slices.Contains(bootModes, c.BootMode) {
		errs = append(errs, fmt.Errorf("boot_mode: %q is not one of %s", c.BootMode, strings.Join(bootModes, ", ")))
	}
	if c.TPMSupport != "" {
		if c.TPMSupport != "v2.0" {
			errs = append(errs, fmt.Errorf("tpm_support: %q is not v2.0", c.TPMSupport))
		}
		if c.BootMode == "legacy-bios" {
			errs = append(errs, fmt.Errorf("tpm_support: NitroTPM needs UEFI; boot_mode is legacy-bios"))
		}
	}
	if c.DeregistrationProtection.WithCooldown && !c.DeregistrationProtection.Enabled {
		errs = append(errs, fmt.Errorf("deregistration_protection.with_cooldown: needs enabled = true"))
	}
	return errs
}

func (v *RootVolume) prepare() []error {
	var errs []error
	if v.VolumeType == "" {
		v.VolumeType = "gp3"
	}
	if !slices.Contains(volumeTypes, v.VolumeType) {
		errs = append(errs, fmt.Errorf("root_volume.volume_type: %q is not one of %s", v.VolumeType, strings.Join(volumeTypes, ", ")))
	}
	if v.VolumeSize < 0 || v.VolumeSize > 65536 {
		errs = append(errs, fmt.Errorf("root_volume.volume_size: %d GiB is outside 1..65536", v.VolumeSize))
	}
	if v.IOPS != 0 {
		lo, hi := int32(0), int32(0)
		switch v.VolumeType {
		case "gp3":
			lo, hi = 3000, 16000
		case "io1", "io2":
			lo, hi = 100, 256000
		default:
			errs = append(errs, fmt.Errorf("root_volume.iops: only gp3, io1 and io2 take provisioned IOPS, not %s", v.VolumeType))
		}
		if hi > 0 && (v.IOPS < lo || v.IOPS > hi) {
			errs = append(errs, fmt.Errorf("root_volume.iops: %d is outside %d..%d for %s", v.IOPS, lo, hi, v.VolumeType))
		}
	} else if v.VolumeType == "io1" || v.VolumeType == "io2" {
		errs = append(errs, fmt.Errorf("root_volume.iops: required for %s", v.VolumeType))
	}
	if v.Throughput != 0 {
		if v.VolumeType != "gp3" {
			errs = append(errs, fmt.Errorf("root_volume.throughput: only gp3 takes a throughput, not %s", v.VolumeType))
		} else if v.Throughput < 125 || v.Throughput > 1000 {
			errs = append(errs, fmt.Errorf("root_volume.throughput: %d MiB/s is outside 125..1000", v.Throughput))
		}
	}
	if v.Encrypted == config.TriUnset {
		v.Encrypted = config.TriTrue
	}
	if v.KMSKeyID != "" {
		if v.Encrypted == config.TriFalse {
			errs = append(errs, fmt.Errorf("root_volume.kms_key_id: set, but encrypted = false"))
		}
		if !unknown.Is(v.KMSKeyID) && !kmsKeySyntax.MatchString(v.KMSKeyID) {
			errs = append(errs, fmt.Errorf("root_volume.kms_key_id: %q is not a key id, key ARN, alias or alias ARN", v.KMSKeyID))
		}
	}
	return errs
}
