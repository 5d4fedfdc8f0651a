//go:generate packer-sdc struct-markdown

// Package ami is the golden-ami data source: it finds the AMI a build should start from (typically
// the newest validated golden image) and exposes its id and provenance to the template.
package ami

import (
	"context"
	"fmt"
	"log"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/hcl2helper"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/zclconf/go-cty/cty"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/amiselect"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// Datasource implements packer.Datasource for golden-ami.
type Datasource struct {
	config Config
}

// DatasourceOutput is what `data.golden-ami.NAME` exposes.
type DatasourceOutput struct {
	// The ID of the AMI, e.g. `ami-0123456789abcdef0`.
	ID string `mapstructure:"id"`
	// The name of the AMI.
	Name string `mapstructure:"name"`
	// When the AMI was created, as EC2 reports it (RFC 3339, e.g. `2024-05-01T12:00:00.000Z`).
	CreationDate string `mapstructure:"creation_date"`
	// The account ID of the AMI's owner.
	Owner string `mapstructure:"owner"`
	// The architecture of the AMI, e.g. `x86_64` or `arm64`.
	Architecture string `mapstructure:"architecture"`
	// The AMI's tags.
	Tags map[string]string `mapstructure:"tags"`
	// The AMI the image was built from: the `golden:source-ami` tag golden-lifecycle writes, else
	// the source image EC2 recorded for copies. Empty when neither is known.
	SourceAMI string `mapstructure:"source_ami"`
	// The AMI's description.
	Description string `mapstructure:"description"`
	// When the AMI is or was deprecated (RFC 3339); empty when no deprecation is set.
	DeprecationTime string `mapstructure:"deprecation_time"`
	// The compliance score golden-harden measured, from the `golden:harden-score` tag; empty when
	// the AMI does not carry it.
	ComplianceScore string `mapstructure:"compliance_score"`
}

// ConfigSpec returns the HCL schema of the data source's arguments.
func (d *Datasource) ConfigSpec() hcldec.ObjectSpec {
	return d.config.FlatMapstructure().HCL2Spec()
}

// Configure decodes and validates the arguments.
func (d *Datasource) Configure(raws ...any) error {
	if err := config.Decode(&d.config, nil, raws...); err != nil {
		return err
	}
	return d.config.Prepare()
}

// OutputSpec returns the HCL schema of the outputs.
func (d *Datasource) OutputSpec() hcldec.ObjectSpec {
	return (&DatasourceOutput{}).FlatMapstructure().HCL2Spec()
}

// Execute looks the AMI up. Packer gives data sources no context, so it bounds the lookup itself.
func (d *Datasource) Execute() (cty.Value, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	img, err := d.find(ctx)
	if err != nil {
		return cty.NullVal(cty.EmptyObject), err
	}
	out := outputOf(img)
	log.Printf("[INFO] golden-ami: picked %s (%q, created %s) in %s", out.ID, out.Name, out.CreationDate, d.config.Region)
	return hcl2helper.HCL2ValueFromConfig(out, d.OutputSpec()), nil
}

func (d *Datasource) find(ctx context.Context) (types.Image, error) {
	c := &d.config
	ec2Client, err := c.EC2Client(ctx)
	if err != nil {
		return types.Image{}, err
	}
	if c.SSMParameter != "" {
		ssmClient, err := c.SSMClient(ctx)
		if err != nil {
			return types.Image{}, err
		}
		return findBySSM(ctx, ec2Client, ssmClient, c.criteria(), c.SSMParameter)
	}
	images, err := amiselect.DescribeAll(ctx, ec2Client, c.describeInput())
	if err != nil {
		return types.Image{}, fmt.Errorf("listing AMIs in %s: %w", c.Region, err)
	}
	return amiselect.Pick(images, c.criteria(), time.Now())
}

func (c *Config) criteria() amiselect.Criteria {
	return amiselect.Criteria{
		Region:            c.Region,
		Owners:            c.Owners,
		Name:              c.Name,
		Tags:              c.Tags,
		Architecture:      c.Architecture,
		RequireValidated:  c.RequireValidated,
		IncludeDeprecated: c.IncludeDeprecated,
		SortBy:            c.SortBy,
		MostRecent:        !c.MostRecent.False(),
	}
}

// describeInput turns the filters into DescribeImages filters so EC2 does the narrowing;
// amiselect.Pick checks the result again.
func (c *Config) describeInput() *ec2.DescribeImagesInput {
	filters := []types.Filter{{Name: aws.String("state"), Values: []string{string(types.ImageStateAvailable)}}}
	add := func(name, value string) {
		filters = append(filters, types.Filter{Name: aws.String(name), Values: []string{value}})
	}
	if c.Name != "" {
		add("name", c.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Tags)) {
		add("tag:"+k, c.Tags[k])
	}
	if c.Architecture != "" {
		add("architecture", c.Architecture)
	}
	if c.RequireValidated {
		add("tag:"+goldentag.Validation, goldentag.ValidationPassed)
	}
	return &ec2.DescribeImagesInput{
		Owners:            c.Owners,
		Filters:           filters,
		IncludeDeprecated: aws.Bool(c.IncludeDeprecated),
		MaxResults:        aws.Int32(1000),
	}
}

// parameterAPI is the part of the SSM client findBySSM needs.
type parameterAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// findBySSM reads the AMI id from an SSM parameter and describes that AMI. require_validated and
// include_deprecated still apply: a parameter left pointing at a deprecated or failed image is
// exactly what they are there to catch.
func findBySSM(ctx context.Context, images ec2.DescribeImagesAPIClient, params parameterAPI, c amiselect.Criteria, name string) (types.Image, error) {
	out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return types.Image{}, fmt.Errorf("reading SSM parameter %s in %s: %w", name, c.Region, err)
	}
	id := aws.ToString(out.Parameter.Value)
	if !amiref.ValidImageID(id) {
		return types.Image{}, fmt.Errorf("SSM parameter %s in %s holds %q, not an AMI id", name, c.Region, id)
	}
	found, err := images.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		return types.Image{}, fmt.Errorf("describing %s, named by SSM parameter %s in %s: %w", id, name, c.Region, err)
	}
	if len(found.Images) != 1 {
		return types.Image{}, fmt.Errorf("SSM parameter %s in %s names %s, which does not exist or is not visible to this account", name, c.Region, id)
	}
	img := found.Images[0]
	if reason := c.Reject(img, time.Now()); reason != "" {
		return types.Image{}, fmt.Errorf("SSM parameter %s in %s names %s, which cannot be used: %s", name, c.Region, id, reason)
	}
	return img, nil
}

func outputOf(img types.Image) DatasourceOutput {
	tags := lifecycle.TagMap(img.Tags)
	source := tags[goldentag.SourceAMI]
	if source == "" {
		source = aws.ToString(img.SourceImageId)
	}
	return DatasourceOutput{
		ID:              aws.ToString(img.ImageId),
		Name:            aws.ToString(img.Name),
		CreationDate:    aws.ToString(img.CreationDate),
		Owner:           aws.ToString(img.OwnerId),
		Architecture:    string(img.Architecture),
		Tags:            tags,
		SourceAMI:       source,
		Description:     aws.ToString(img.Description),
		DeprecationTime: aws.ToString(img.DeprecationTime),
		ComplianceScore: tags[goldentag.HardenScore],
	}
}
