package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
)

// Limits of DescribeImageReferences (EC2 API reference): ten image ids a call, pages of up to
// 1,000 references, and launch templates checked back from their latest version to a depth of at
// most 10,000 versions, the most a template can have.
const (
	referenceIDsPerCall  = 10
	referencesPageSize   = 1000
	referenceVersionDeep = "10000"
)

// errNoReferenceCheck says the region does not offer DescribeImageReferences.
var errNoReferenceCheck = errors.New("EC2 does not offer DescribeImageReferences here")

// referenceTypes asks for every resource type the check knows (IncludeAllResourceTypes also
// covers the Image Builder recipes and any type AWS adds), with instances in any state but
// terminated and every version of every launch template rather than the default ten.
var referenceTypes = []types.ResourceTypeRequest{
	{ResourceType: types.ImageReferenceResourceTypeEc2Instance, ResourceTypeOptions: []types.ResourceTypeOption{
		{OptionName: types.ImageReferenceOptionNameStateName, OptionValues: instanceInUseStates}}},
	{ResourceType: types.ImageReferenceResourceTypeEc2LaunchTemplate, ResourceTypeOptions: []types.ResourceTypeOption{
		{OptionName: types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{referenceVersionDeep}}}},
}

// collectReferences asks EC2 what refers to the images, ten a call, every page. It returns
// errNoReferenceCheck, wrapping EC2's answer, where the region does not offer the action.
func collectReferences(ctx context.Context, api ec2.DescribeImageReferencesAPIClient, imageIDs []string, templates []launchTemplate) ([]Use, error) {
	labels := map[string]string{}
	for _, t := range templates {
		labels[t.id] = t.label()
	}
	var uses []Use
	for batch := range chunks(imageIDs, referenceIDsPerCall) {
		pages := ec2.NewDescribeImageReferencesPaginator(api, &ec2.DescribeImageReferencesInput{
			ImageIds:                batch,
			IncludeAllResourceTypes: aws.Bool(true),
			ResourceTypes:           referenceTypes,
			MaxResults:              aws.Int32(referencesPageSize),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				if code := awsconf.ErrorCode(err); code == "UnsupportedOperation" || code == "InvalidAction" {
					return nil, fmt.Errorf("%w (%s)", errNoReferenceCheck, code)
				}
				return nil, err
			}
			for _, r := range page.ImageReferences {
				uses = append(uses, useOfReference(r, labels))
			}
		}
	}
	return uses, nil
}

// useOfReference turns a reference into a use, naming the resource as the rest of the inventory
// does: instance and template ids (with the template's name), parameter names, recipe ARNs.
func useOfReference(r types.ImageReference, templateLabels map[string]string) Use {
	arn := aws.ToString(r.Arn)
	// arn:partition:service:region:account:resource
	resource := arn
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
		resource = parts[5]
	}
	u := Use{ImageID: aws.ToString(r.ImageId), Resource: arn}
	switch r.ResourceType {
	case types.ImageReferenceResourceTypeEc2Instance:
		u.Kind, u.Resource = UseInstance, strings.TrimPrefix(resource, "instance/")
	case types.ImageReferenceResourceTypeEc2LaunchTemplate:
		id := strings.TrimPrefix(resource, "launch-template/")
		u.Kind, u.Resource = UseLaunchTemplate, id
		if label := templateLabels[id]; label != "" {
			u.Resource = label
		}
	case types.ImageReferenceResourceTypeSsmParameter:
		// The ARN drops the name's leading slash: parameter/golden/x is /golden/x.
		u.Kind, u.Resource = UseSSMParameter, "/"+strings.TrimPrefix(resource, "parameter/")
	case types.ImageReferenceResourceTypeImageBuilderImageRecipe:
		u.Kind = UseImageRecipe
	case types.ImageReferenceResourceTypeImageBuilderContainerRecipe:
		u.Kind = UseContainerRecipe
	default:
		u.Kind = UseKind(r.ResourceType)
	}
	return u
}

// collectPinnedVersions reads the launch template versions Auto Scaling groups launch by number
// that the $Default and $Latest stream did not return, one call per template such a group pins.
// The reference check sees the images in those versions, but not the SSM parameters they launch
// through, nor which group launches them.
func collectPinnedVersions(ctx context.Context, api ec2.DescribeLaunchTemplateVersionsAPIClient, templates []launchTemplate, groups []astypes.AutoScalingGroup) error {
	index := indexTemplates(templates)
	pinned := map[string][]string{}
	for _, g := range groups {
		for _, spec := range groupTemplateSpecs(g) {
			tpl := index.find(spec)
			n, err := strconv.ParseInt(aws.ToString(spec.Version), 10, 64)
			if tpl == nil || err != nil || tpl.hasVersion(n) {
				continue
			}
			if v := strconv.FormatInt(n, 10); !slices.Contains(pinned[tpl.id], v) {
				pinned[tpl.id] = append(pinned[tpl.id], v)
			}
		}
	}
	for _, id := range dedupe(keysOf(pinned)) {
		for batch := range chunks(pinned[id], templateVersionsPage) {
			in := &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: batch}
			if err := readVersions(ctx, api, templates, in); err != nil {
				return fmt.Errorf("versions %s of %s: %w", strings.Join(batch, ", "), id, err)
			}
		}
	}
	return nil
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// templateIndex finds a template by the id or the name a launch template specification gives.
type templateIndex map[string]*launchTemplate

func indexTemplates(templates []launchTemplate) templateIndex {
	index := templateIndex{}
	for i := range templates {
		index["id:"+templates[i].id] = &templates[i]
		index["name:"+templates[i].name] = &templates[i]
	}
	return index
}

func (x templateIndex) find(spec *astypes.LaunchTemplateSpecification) *launchTemplate {
	if tpl := x["id:"+aws.ToString(spec.LaunchTemplateId)]; tpl != nil {
		return tpl
	}
	return x["name:"+aws.ToString(spec.LaunchTemplateName)]
}

// groupTemplateSpecs lists every launch template a group launches from: its own, and those of its
// mixed instances policy and the policy's overrides.
func groupTemplateSpecs(g astypes.AutoScalingGroup) []*astypes.LaunchTemplateSpecification {
	var specs []*astypes.LaunchTemplateSpecification
	if g.LaunchTemplate != nil {
		specs = append(specs, g.LaunchTemplate)
	}
	if mip := g.MixedInstancesPolicy; mip != nil && mip.LaunchTemplate != nil {
		if s := mip.LaunchTemplate.LaunchTemplateSpecification; s != nil {
			specs = append(specs, s)
		}
		for _, o := range mip.LaunchTemplate.Overrides {
			if o.LaunchTemplateSpecification != nil {
				specs = append(specs, o.LaunchTemplateSpecification)
			}
		}
	}
	return specs
}

func (t launchTemplate) hasVersion(n int64) bool {
	return slices.ContainsFunc(t.versions, func(v templateVersion) bool { return v.number == n })
}

// withoutVagueDuplicates drops repeated uses, and a use without detail where the same resource
// has a detailed use of the same image (a reference next to the template version it is in).
func withoutVagueDuplicates(uses []Use) []Use {
	type key struct {
		image    string
		kind     UseKind
		resource string
	}
	detailed := map[key]bool{}
	for _, u := range uses {
		if u.Detail != "" {
			detailed[key{u.ImageID, u.Kind, u.Resource}] = true
		}
	}
	seen := map[Use]bool{}
	var out []Use
	for _, u := range uses {
		if seen[u] || (u.Detail == "" && detailed[key{u.ImageID, u.Kind, u.Resource}]) {
			continue
		}
		seen[u] = true
		out = append(out, u)
	}
	return out
}
