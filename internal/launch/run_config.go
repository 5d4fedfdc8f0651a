//go:generate packer-sdc struct-markdown
//go:generate packer-sdc mapstructure-to-hcl2 -type RunConfig,SubnetFilter,MetadataOptions,Polling

package launch

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/golden-ami/packer-plugin-golden/internal/unknown"
)

// Defaults of the run options.
const (
	DefaultTemporaryResourcesTTL = 6 * time.Hour
	DefaultPollDelay             = 5 * time.Second
	DefaultHTTPPutResponseHops   = 1
)

// SSH interfaces (ssh_interface).
const (
	SSHInterfacePublicIP   = "public_ip"
	SSHInterfacePrivateIP  = "private_ip"
	SSHInterfacePublicDNS  = "public_dns"
	SSHInterfacePrivateDNS = "private_dns"
)

var sshInterfaces = []string{SSHInterfacePublicIP, SSHInterfacePrivateIP, SSHInterfacePublicDNS, SSHInterfacePrivateDNS}

// SubnetFilter picks a subnet by its attributes.
type SubnetFilter struct {
	// DescribeSubnets filters the subnet must match, e.g. `{ "tag:Tier" = "build" }`. Of the
	// matching subnets the one with the most free addresses is used (ties: the lowest id).
	Filters map[string]string `mapstructure:"filters" required:"true"`
}

// MetadataOptions is how the instance's metadata service (IMDS) answers.
type MetadataOptions struct {
	// `enabled` (the default) or `disabled`.
	HTTPEndpoint string `mapstructure:"http_endpoint" required:"false"`
	// `required` (the default: IMDSv2 only, every request needs a session token) or `optional`
	// (IMDSv1 answers too, which lets a server-side request forgery read the instance's
	// credentials).
	HTTPTokens string `mapstructure:"http_tokens" required:"false"`
	// How many network hops a metadata response may travel, 1 to 64. Defaults to `1`, so that a
	// container on the instance cannot reach the service; set `2` for builds that run containers
	// needing it.
	HTTPPutResponseHopLimit int32 `mapstructure:"http_put_response_hop_limit" required:"false"`
	// `enabled` to expose the instance's tags in the metadata, `disabled` (the default) not to.
	InstanceMetadataTags string `mapstructure:"instance_metadata_tags" required:"false"`
}

// Polling sets how long waits on AWS (instance running, image available) poll and for how long.
type Polling struct {
	// Seconds between two polls. Defaults to `5`.
	DelaySeconds int `mapstructure:"delay_seconds" required:"false"`
	// Polls before a wait gives up. Defaults to each wait's own limit: 10 minutes for an
	// instance to run, stop or terminate, 15 minutes for its status checks, 2 hours for an image.
	MaxAttempts int `mapstructure:"max_attempts" required:"false"`
}

// Delay is the time between polls.
func (p Polling) Delay() time.Duration {
	if p.DelaySeconds <= 0 {
		return DefaultPollDelay
	}
	return time.Duration(p.DelaySeconds) * time.Second
}

// MaxWait is how long a wait lasts: max_attempts polls, or def when max_attempts is not set.
func (p Polling) MaxWait(def time.Duration) time.Duration {
	if p.MaxAttempts <= 0 {
		return def
	}
	return time.Duration(p.MaxAttempts) * p.Delay()
}

// RunConfig is how the temporary instance is launched and reached: the options golden-ebs and
// golden-validate share.
type RunConfig struct {
	// The instance type to launch, e.g. `t3.small`. Either `instance_type` or `instance_types`
	// is required.
	InstanceType string `mapstructure:"instance_type" required:"false"`
	// Instance types to try in order: when EC2 answers `InsufficientInstanceCapacity` or
	// `Unsupported` (the type is not offered in the zone) for one, the next is tried, e.g.
	// `["t3.small", "t3a.small", "m5.large"]`.
	InstanceTypes []string `mapstructure:"instance_types" required:"false"`
	// Launch as a Spot Instance. When no Spot capacity is available for a type, it is launched
	// on demand before the next type is tried. Defaults to `false`.
	Spot bool `mapstructure:"spot" required:"false"`
	// The subnet to launch in, e.g. `subnet-0a1b2c3d4e5f60718`. Defaults to the default subnet of
	// the default VPC (of `vpc_id` when set, its first subnet by id).
	SubnetID string `mapstructure:"subnet_id" required:"false"`
	// Picks the subnet by filters instead of `subnet_id`. See the `subnet_filter` block below.
	SubnetFilter SubnetFilter `mapstructure:"subnet_filter" required:"false"`
	// The VPC to launch in, e.g. `vpc-0a1b2c3d4e5f60718`; the subnet must belong to it. Defaults
	// to the subnet's VPC, or the default VPC.
	VpcID string `mapstructure:"vpc_id" required:"false"`
	// Give the instance a public IPv4 address (`true`) or not (`false`). Defaults to the
	// subnet's setting.
	AssociatePublicIPAddress config.Trilean `mapstructure:"associate_public_ip_address" required:"false"`
	// The name or ARN of an IAM instance profile to launch the instance with. Defaults to none.
	IAMInstanceProfile string `mapstructure:"iam_instance_profile" required:"false"`
	// Existing security groups to launch in, e.g. `["sg-0a1b2c3d4e5f60718"]`, instead of the
	// temporary group the run creates. They must let the SSH port in from this machine.
	// Defaults to none: the run's own temporary group.
	SecurityGroupIDs []string `mapstructure:"security_group_ids" required:"false"`
	// The sources the temporary security group lets in on the SSH port. Defaults to this
	// machine's own address only (a `/32`): the one `temporary_security_group_checkip_url` answers
	// when set, else the address this machine uses to reach the instance, read once the instance
	// has its address. `0.0.0.0/0` opens the port to the whole internet and is accepted only
	// written out as such.
	TemporarySecurityGroupSourceCIDRs []string `mapstructure:"temporary_security_group_source_cidrs" required:"false"`
	// An HTTP(S) service that answers a GET with the caller's public IPv4 address as plain text,
	// for when this machine reaches the instance through NAT (its own address is then not the one
	// the instance sees). Defaults to none.
	CheckIPURL string `mapstructure:"temporary_security_group_checkip_url" required:"false"`
	// How the instance's metadata service answers. See the `metadata_options` block below;
	// IMDSv2 is required by default.
	MetadataOptions MetadataOptions `mapstructure:"metadata_options" required:"false"`
	// User data for the instance, as text (it is base64-encoded for EC2). Defaults to none.
	UserData string `mapstructure:"user_data" required:"false"`
	// A file whose content is the instance's user data. Cannot be combined with `user_data`.
	// Defaults to none.
	UserDataFile string `mapstructure:"user_data_file" required:"false"`
	// Tags for the temporary instance, its volumes, key pair and security group, on top of the
	// run's own `Name`, `golden:build-id`, `golden:temporary` and `golden:expires-at`. Defaults
	// to none.
	RunTags map[string]string `mapstructure:"run_tags" required:"false"`
	// Before launching, delete every temporary resource (instances, images, snapshots, security
	// groups, key pairs tagged `golden:temporary = true`) of the account and region whose
	// `golden:expires-at` has passed: what a killed run left behind. Each deletion is reported.
	// Defaults to `true`.
	SweepOrphans config.Trilean `mapstructure:"sweep_orphans" required:"false"`
	// How long the run's temporary resources are kept if the run dies without cleaning up: their
	// `golden:expires-at` is the run's start plus this. It must be longer than any run takes, or
	// another run's sweep deletes resources still in use. Defaults to `6h`.
	TemporaryResourcesTTL time.Duration `mapstructure:"temporary_resources_ttl" required:"false"`
	// How waits on AWS poll. See the `aws_polling` block below.
	Polling Polling `mapstructure:"aws_polling" required:"false"`
	// Which address of the instance to connect to: `public_ip`, `private_ip`, `public_dns` or
	// `private_dns`. Defaults to the public IP when the instance has one, else the private IP.
	SSHInterface string `mapstructure:"ssh_interface" required:"false"`

	Comm communicator.Config `mapstructure:",squash"`
}

var (
	instanceTypeSyntax = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)
	subnetIDSyntax     = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	vpcIDSyntax        = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	groupIDSyntax      = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// Prepare fills defaults and validates the options; every error names its option.
func (c *RunConfig) Prepare(ctx *interpolate.Context) []error {
	var errs []error
	errs = append(errs, c.prepareInstanceTypes()...)
	errs = append(errs, c.prepareNetwork()...)
	errs = append(errs, c.prepareSecurityGroup()...)
	errs = append(errs, c.MetadataOptions.prepare()...)
	errs = append(errs, c.prepareUserData()...)
	errs = append(errs, ValidateTags("run_tags", c.RunTags)...)
	if c.SweepOrphans == config.TriUnset {
		c.SweepOrphans = config.TriTrue
	}
	switch {
	case c.TemporaryResourcesTTL == 0:
		c.TemporaryResourcesTTL = DefaultTemporaryResourcesTTL
	case c.TemporaryResourcesTTL < time.Second:
		errs = append(errs, fmt.Errorf("temporary_resources_ttl: %s is shorter than a second", c.TemporaryResourcesTTL))
	}
	if c.Polling.DelaySeconds < 0 {
		errs = append(errs, fmt.Errorf("aws_polling.delay_seconds: must be 1 or more, got %d", c.Polling.DelaySeconds))
	}
	if c.Polling.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("aws_polling.max_attempts: must be 1 or more, got %d", c.Polling.MaxAttempts))
	}
	if c.SSHInterface != "" && !slices.Contains(sshInterfaces, c.SSHInterface) {
		errs = append(errs, fmt.Errorf("ssh_interface: %q is not one of %s", c.SSHInterface, strings.Join(sshInterfaces, ", ")))
	}
	if c.Comm.Type == "winrm" {
		errs = append(errs, fmt.Errorf("communicator: winrm is not supported; use ssh (the default) or none"))
	}
	errs = append(errs, c.prepareTemporaryKey()...)
	errs = append(errs, c.Comm.Prepare(ctx)...)
	return errs
}

// prepareTemporaryKey refuses the communicator's temporary key options that a run would
// otherwise ignore: its temporary key is always an ed25519 key named after the run.
func (c *RunConfig) prepareTemporaryKey() []error {
	var errs []error
	if t := c.Comm.SSHTemporaryKeyPairType; t != "" && t != "ed25519" {
		errs = append(errs, fmt.Errorf("temporary_key_pair_type: %q is not supported: the temporary key is always ed25519; leave the option out", t))
	}
	if c.Comm.SSHTemporaryKeyPairBits != 0 {
		errs = append(errs, fmt.Errorf("temporary_key_pair_bits: not supported: the temporary key is always ed25519, whose size is fixed; leave the option out"))
	}
	if c.Comm.SSHTemporaryKeyPairName != "" {
		errs = append(errs, fmt.Errorf("temporary_key_pair_name: not supported: the temporary key pair is named after the build id; leave the option out"))
	}
	return errs
}

// InstanceTypeList is the instance types to try, in order.
func (c *RunConfig) InstanceTypeList() []string {
	if c.InstanceType != "" {
		return []string{c.InstanceType}
	}
	return c.InstanceTypes
}

func (c *RunConfig) prepareInstanceTypes() []error {
	var errs []error
	switch {
	case c.InstanceType == "" && len(c.InstanceTypes) == 0:
		errs = append(errs, fmt.Errorf("instance_type: required (or instance_types)"))
	case c.InstanceType != "" && len(c.InstanceTypes) > 0:
		errs = append(errs, fmt.Errorf("instance_type and instance_types: set one, not both"))
	}
	seen := map[string]bool{}
	for _, it := range c.InstanceTypeList() {
		option := "instance_types"
		if c.InstanceType != "" {
			option = "instance_type"
		}
		if !instanceTypeSyntax.MatchString(it) {
			errs = append(errs, fmt.Errorf("%s: %q is not an instance type (family.size, e.g. t3.small)", option, it))
		}
		if seen[it] {
			errs = append(errs, fmt.Errorf("%s: %q is listed twice", option, it))
		}
		seen[it] = true
	}
	return errs
}

func (c *RunConfig) prepareNetwork() []error {
	var errs []error
	if c.SubnetID != "" && !unknown.Is(c.SubnetID) && !subnetIDSyntax.MatchString(c.SubnetID) {
		errs = append(errs, fmt.Errorf("subnet_id: %q is not a subnet id (subnet- and 8 or 17 hex digits)", c.SubnetID))
	}
	if c.SubnetID != "" && len(c.SubnetFilter.Filters) > 0 {
		errs = append(errs, fmt.Errorf("subnet_id and subnet_filter: set one, not both"))
	}
	for name, value := range c.SubnetFilter.Filters {
		if strings.TrimSpace(name) == "" || value == "" {
			errs = append(errs, fmt.Errorf("subnet_filter.filters: names and values must not be empty"))
			break
		}
	}
	if c.VpcID != "" && !unknown.Is(c.VpcID) && !vpcIDSyntax.MatchString(c.VpcID) {
		errs = append(errs, fmt.Errorf("vpc_id: %q is not a VPC id (vpc- and 8 or 17 hex digits)", c.VpcID))
	}
	if c.IAMInstanceProfile != "" && strings.ContainsAny(c.IAMInstanceProfile, " \t\n") {
		errs = append(errs, fmt.Errorf("iam_instance_profile: %q is not a profile name or ARN", c.IAMInstanceProfile))
	}
	return errs
}

func (c *RunConfig) prepareSecurityGroup() []error {
	var errs []error
	for _, id := range c.SecurityGroupIDs {
		if !unknown.Is(id) && !groupIDSyntax.MatchString(id) {
			errs = append(errs, fmt.Errorf("security_group_ids: %q is not a security group id (sg- and 8 or 17 hex digits)", id))
		}
	}
	if len(c.SecurityGroupIDs) > 0 && (c.TemporarySecurityGroupSourceCIDRs != nil || c.CheckIPURL != "") {
		errs = append(errs, fmt.Errorf("security_group_ids: cannot be combined with temporary_security_group_source_cidrs or temporary_security_group_checkip_url, which configure the temporary group"))
	}
	if c.TemporarySecurityGroupSourceCIDRs != nil && len(c.TemporarySecurityGroupSourceCIDRs) == 0 {
		errs = append(errs, fmt.Errorf("temporary_security_group_source_cidrs: an empty list lets nobody in; leave it out to let this machine in, or name the sources"))
	}
	for _, cidr := range c.TemporarySecurityGroupSourceCIDRs {
		if err := checkSourceCIDR(cidr); err != nil {
			errs = append(errs, fmt.Errorf("temporary_security_group_source_cidrs: %w", err))
		}
	}
	if c.CheckIPURL != "" {
		if c.TemporarySecurityGroupSourceCIDRs != nil {
			errs = append(errs, fmt.Errorf("temporary_security_group_checkip_url: cannot be combined with temporary_security_group_source_cidrs"))
		}
		u, err := url.Parse(c.CheckIPURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("temporary_security_group_checkip_url: %q is not an http or https URL", c.CheckIPURL))
		}
	}
	return errs
}

// checkSourceCIDR accepts an IPv4 or IPv6 CIDR whose host bits are zero. A prefix that opens the
// port to everyone must be written as 0.0.0.0/0 or ::/0: "1.2.3.4/0" means the same, but reads
// like a single host.
func checkSourceCIDR(cidr string) error {
	ip, network, err := net.ParseCIDR(cidr)
	if err != nil {
		return fmt.Errorf("%q is not a CIDR block (e.g. 203.0.113.7/32)", cidr)
	}
	if !ip.Equal(network.IP) {
		ones, _ := network.Mask.Size()
		if ones == 0 {
			return fmt.Errorf("%q opens the SSH port to every address; write %s if that is meant", cidr, network.String())
		}
		return fmt.Errorf("%q has host bits set; the block is %s", cidr, network.String())
	}
	if network.String() != cidr {
		return fmt.Errorf("%q is not written canonically; write %s", cidr, network.String())
	}
	return nil
}

func (m *MetadataOptions) prepare() []error {
	var errs []error
	oneOf := func(option string, value *string, def string, allowed ...string) {
		if *value == "" {
			*value = def
		}
		if !slices.Contains(allowed, *value) {
			errs = append(errs, fmt.Errorf("metadata_options.%s: %q is not one of %s", option, *value, strings.Join(allowed, ", ")))
		}
	}
	oneOf("http_endpoint", &m.HTTPEndpoint, "enabled", "enabled", "disabled")
	oneOf("http_tokens", &m.HTTPTokens, "required", "required", "optional")
	oneOf("instance_metadata_tags", &m.InstanceMetadataTags, "disabled", "enabled", "disabled")
	switch {
	case m.HTTPPutResponseHopLimit == 0:
		m.HTTPPutResponseHopLimit = DefaultHTTPPutResponseHops
	case m.HTTPPutResponseHopLimit < 1 || m.HTTPPutResponseHopLimit > 64:
		errs = append(errs, fmt.Errorf("metadata_options.http_put_response_hop_limit: %d is outside 1..64", m.HTTPPutResponseHopLimit))
	}
	return errs
}

func (c *RunConfig) prepareUserData() []error {
	var errs []error
	if c.UserData != "" && c.UserDataFile != "" {
		errs = append(errs, fmt.Errorf("user_data and user_data_file: set one, not both"))
	}
	if c.UserDataFile != "" {
		if _, err := os.Stat(c.UserDataFile); err != nil {
			errs = append(errs, fmt.Errorf("user_data_file: %w", err))
		}
	}
	return errs
}

// ReadUserData returns the instance's user data, read from user_data_file when set.
func (c *RunConfig) ReadUserData() (string, error) {
	if c.UserDataFile == "" {
		return c.UserData, nil
	}
	data, err := os.ReadFile(c.UserDataFile)
	if err != nil {
		return "", fmt.Errorf("user_data_file: %w", err)
	}
	return string(data), nil
}

// ValidateTags checks tags as EC2 does (keys of 1-128 characters, values up to 256, no "aws:"
// prefix) and refuses the keys a run sets itself (golden:temporary, golden:expires-at,
// golden:build-id), which a user's tag would otherwise silently lose to.
func ValidateTags(option string, tags map[string]string) []error {
	var errs []error
	for _, k := range sortedKeys(tags) {
		v := tags[k]
		switch {
		case k == "" || len(k) > 128:
			errs = append(errs, fmt.Errorf("%s: key %q must be 1 to 128 characters", option, k))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			errs = append(errs, fmt.Errorf("%s: key %q: the aws: prefix is reserved for AWS", option, k))
		case slices.Contains(reservedTagKeys, k):
			errs = append(errs, fmt.Errorf("%s: key %q is set by the build itself", option, k))
		}
		if len(v) > 256 {
			errs = append(errs, fmt.Errorf("%s: the value of %q is longer than 256 characters", option, k))
		}
	}
	if len(tags) > 40 {
		errs = append(errs, fmt.Errorf("%s: %d tags; EC2 allows 50 per resource and the build adds up to 10", option, len(tags)))
	}
	return errs
}
