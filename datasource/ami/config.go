//go:generate packer-sdc struct-markdown
//go:generate packer-sdc mapstructure-to-hcl2 -type Config,DatasourceOutput

package ami

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"

	"github.com/golden-ami/packer-plugin-golden/internal/amiselect"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
)

// Sort orders for sort_by.
const (
	SortByCreationDate = amiselect.SortByCreationDate
	SortByName         = amiselect.SortByName
)

// DefaultOwner is the owner searched when owners is not set: the account the credentials belong to.
const DefaultOwner = "self"

// Config selects one AMI, either by filters (name, tags, owners, architecture) or through an SSM
// parameter that holds its id.
type Config struct {
	common.PackerConfig  `mapstructure:",squash"`
	awsconf.AccessConfig `mapstructure:",squash"`

	// The AMI name to look for. `*` matches any run of characters and `?` any single character,
	// e.g. `golden-ubuntu-22.04-*`. Either `name`, `tags` or `ssm_parameter` is required.
	Name string `mapstructure:"name" required:"false"`
	// Tags the AMI must carry, with exactly these values, e.g. `{ Team = "platform" }`.
	Tags map[string]string `mapstructure:"tags" required:"false"`
	// The owners to search: `self` (the account of the credentials), account IDs, or the aliases
	// `amazon`, `aws-marketplace` and `aws-backup-vault`. Defaults to `["self"]`. It cannot be
	// emptied: picking the newest image by name among all public AMIs would let anyone publish
	// the image you pick.
	Owners []string `mapstructure:"owners" required:"false"`
	// The architecture the AMI must have: `x86_64`, `arm64`, `i386`, `x86_64_mac` or `arm64_mac`.
	// Defaults to any.
	Architecture string `mapstructure:"architecture" required:"false"`
	// Only pick AMIs that golden-validate has passed, i.e. that carry the tag
	// `golden:validation = passed`. With `ssm_parameter`, fail when the AMI the parameter names has
	// not passed. Defaults to `false`.
	RequireValidated bool `mapstructure:"require_validated" required:"false"`
	// Also pick AMIs whose deprecation time has passed. With `ssm_parameter`, accept a deprecated AMI
	// instead of failing. Defaults to `false`.
	IncludeDeprecated bool `mapstructure:"include_deprecated" required:"false"`
	// Which matching AMI is the newest: `creation_date` (the default) picks the one created last,
	// `name` the one whose name sorts last (for names that end in a sortable version or date).
	// Ties are broken by creation date or name, then by AMI ID, so the same images always give
	// the same answer.
	SortBy string `mapstructure:"sort_by" required:"false"`
	// When several AMIs match, pick the newest by `sort_by`. Set it to `false` to require that
	// exactly one AMI matches, and fail listing the matches otherwise. Defaults to `true`.
	MostRecent config.Trilean `mapstructure:"most_recent" required:"false"`
	// The name of an SSM parameter that holds the AMI ID, e.g. `/golden/ubuntu-22.04/latest` as
	// written by golden-lifecycle, or a public parameter such as
	// `/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id`.
	// The AMI is then described for the outputs. Cannot be combined with `name`, `tags`, `owners`,
	// `architecture`, `sort_by` or `most_recent`.
	SSMParameter string `mapstructure:"ssm_parameter" required:"false"`
}

var (
	accountIDSyntax = regexp.MustCompile(`^[0-9]{12}$`)
	// SSM parameter names: letters, digits, and . - _ /, optionally starting with /.
	ssmNameSyntax = regexp.MustCompile(`^/?[a-zA-Z0-9_.\-]+(/[a-zA-Z0-9_.\-]+)*$`)
	ownerAliases  = []string{"self", "amazon", "aws-marketplace", "aws-backup-vault"}
	architectures = []string{"i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"}
)

// Prepare validates the options and fills in defaults. It returns every problem found, each
// naming its option.
func (c *Config) Prepare() error {
	var errs *packersdk.MultiError
	errs = packersdk.MultiErrorAppend(errs, c.AccessConfig.Prepare()...)

	if c.SSMParameter != "" {
		errs = packersdk.MultiErrorAppend(errs, c.prepareSSM()...)
	} else {
		errs = packersdk.MultiErrorAppend(errs, c.prepareFilters()...)
	}
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

func (c *Config) prepareSSM() []error {
	var errs []error
	if !ssmNameSyntax.MatchString(c.SSMParameter) {
		errs = append(errs, fmt.Errorf("ssm_parameter: %q is not a parameter name", c.SSMParameter))
	}
	var conflicting []string
	for option, set := range map[string]bool{
		"name":         c.Name != "",
		"tags":         len(c.Tags) > 0,
		"owners":       c.Owners != nil,
		"architecture": c.Architecture != "",
		"sort_by":      c.SortBy != "",
		"most_recent":  c.MostRecent != config.TriUnset,
	} {
		if set {
			conflicting = append(conflicting, option)
		}
	}
	if len(conflicting) > 0 {
		slices.Sort(conflicting)
		errs = append(errs, fmt.Errorf("ssm_parameter: cannot be combined with %s; the parameter names the AMI", strings.Join(conflicting, ", ")))
	}
	return errs
}

func (c *Config) prepareFilters() []error {
	var errs []error
	if c.Name == "" && len(c.Tags) == 0 {
		errs = append(errs, fmt.Errorf("name, tags or ssm_parameter: one is required, or the newest of every image the owners have would be picked"))
	}
	for k := range c.Tags {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("tags: tag keys must not be empty"))
			break
		}
	}
	switch {
	case c.Owners == nil:
		c.Owners = []string{DefaultOwner}
	case len(c.Owners) == 0:
		errs = append(errs, fmt.Errorf("owners: must name at least one owner (default [\"self\"]); an empty list would search every public AMI"))
	}
	for _, o := range c.Owners {
		if !slices.Contains(ownerAliases, o) && !accountIDSyntax.MatchString(o) {
			errs = append(errs, fmt.Errorf("owners: %q is neither an account ID (12 digits) nor one of %s", o, strings.Join(ownerAliases, ", ")))
		}
	}
	if c.Architecture != "" && !slices.Contains(architectures, c.Architecture) {
		errs = append(errs, fmt.Errorf("architecture: %q is not one of %s", c.Architecture, strings.Join(architectures, ", ")))
	}
	switch c.SortBy {
	case "":
		c.SortBy = SortByCreationDate
	case SortByCreationDate, SortByName:
	default:
		errs = append(errs, fmt.Errorf("sort_by: %q is not %q or %q", c.SortBy, SortByCreationDate, SortByName))
	}
	return errs
}
