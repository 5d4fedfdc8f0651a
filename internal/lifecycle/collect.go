package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Batch and page sizes of the inventory calls: the largest each API accepts, so that the number of
// calls grows with the number of resources divided by these, never with a product of them.
const (
	imagesPageSize          = 1000 // DescribeImages MaxResults
	filterValuesPerCall     = 200  // filter values EC2 accepts in one call, all filters together
	instancesPageSize       = 1000 // DescribeInstances MaxResults
	launchTemplatesPageSize = 200  // DescribeLaunchTemplates MaxResults
	templateVersionsPage    = 200  // DescribeLaunchTemplateVersions MaxResults
	autoScalingPageSize     = 100  // DescribeAutoScalingGroups / DescribeLaunchConfigurations MaxRecords
	parametersBatch         = 10   // names in one GetParameters call
	parametersPageSize      = 50   // DescribeParameters MaxResults
)

// resolveSSMPrefix marks a launch template image id that names an SSM parameter holding the AMI id.
const resolveSSMPrefix = "resolve:ssm:"

// instanceInUseStates are the instance states that still hold on to their image: everything but
// terminated. A stopped instance starts again from its root volume, which may need the image for
// the snapshot's lifetime, and it is what users expect to find again.
var instanceInUseStates = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

// InventoryEC2API is the part of the EC2 API the inventory reads.
type InventoryEC2API interface {
	ec2.DescribeImagesAPIClient
	DescribeImageAttribute(ctx context.Context, in *ec2.DescribeImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
	ec2.DescribeInstancesAPIClient
	ec2.DescribeLaunchTemplatesAPIClient
	ec2.DescribeLaunchTemplateVersionsAPIClient
	ec2.DescribeImageReferencesAPIClient
}

// InventorySSMAPI is the part of the Systems Manager API the inventory reads.
type InventorySSMAPI interface {
	ssm.DescribeParametersAPIClient
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// InventoryAutoScalingAPI is the part of the Auto Scaling API the inventory reads.
type InventoryAutoScalingAPI interface {
	autoscaling.DescribeAutoScalingGroupsAPIClient
	autoscaling.DescribeLaunchConfigurationsAPIClient
}

// Sources is where Collect reads one region's inventory from.
type Sources struct {
	Region      string
	AccountID   string
	EC2         InventoryEC2API
	SSM         InventorySSMAPI
	AutoScaling InventoryAutoScalingAPI
	// Parameters are SSM parameters to read in addition to every parameter of data type
	// aws:ec2:image and the ones launch templates resolve (`resolve:ssm:`): an image they point at
	// is in use. The lifecycle's own ssm_parameter is one (it may be of data type text).
	Parameters []string
	// Planned are images the run is going to make here (its copies), counted among the newest
	// before they exist so that the images they push out of keep_latest are checked too.
	Planned []Image
	// Log, when set, hears how the inventory was read where that is not the usual way.
	Log func(format string, args ...any)
}

func (s Sources) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(format, args...)
	}
}

// Collect reads everything Plan needs to decide about the images policy selects in one region.
// Every call is paginated, and images are looked up in batches, so the number of calls grows with
// the number of images + launch templates + instances + groups, never with their product.
//
// Where the region offers DescribeImageReferences, EC2 itself finds the instances, launch template
// versions, SSM parameters and Image Builder recipes that refer to the images the plan would
// otherwise delete; where it does not (an older partition), Collect reads instances, every launch
// template version and the parameters of data type aws:ec2:image itself, and says so through
// src.Log. Auto Scaling is read either way: no reference check covers groups and launch
// configurations, nor the template versions and SSM parameters the groups launch through.
//
// Any failed read fails the whole collection: an inventory with a gap would make an image in use
// look unused.
func Collect(ctx context.Context, src Sources, policy PrunePolicy, pinned map[string]string) (Inventory, error) {
	inv := Inventory{Region: src.Region, AccountID: src.AccountID, Pinned: pinned}
	var err error
	if inv.Images, err = collectImages(ctx, src.EC2); err != nil {
		return Inventory{}, fmt.Errorf("listing the account's images in %s: %w", src.Region, err)
	}
	inv.Images = append(inv.Images, src.Planned...)
	var candidates []string
	for _, img := range inv.Images {
		if policy.Selects(img) {
			candidates = append(candidates, img.ID)
		}
	}
	if len(candidates) == 0 {
		return inv, nil
	}

	templates, err := collectLaunchTemplates(ctx, src.EC2)
	if err != nil {
		return Inventory{}, fmt.Errorf("listing launch templates in %s: %w", src.Region, err)
	}
	groups, configs, err := collectAutoScaling(ctx, src.AutoScaling)
	if err != nil {
		return Inventory{}, fmt.Errorf("listing Auto Scaling groups and launch configurations in %s: %w", src.Region, err)
	}
	if err := collectPinnedVersions(ctx, src.EC2, templates, groups); err != nil {
		return Inventory{}, fmt.Errorf("reading the launch template versions Auto Scaling groups launch in %s: %w", src.Region, err)
	}
	values, err := readParameters(ctx, src.SSM, append(resolvedParameters(templates), src.Parameters...))
	if err != nil {
		return Inventory{}, fmt.Errorf("reading SSM parameters in %s: %w", src.Region, err)
	}
	inv.Uses = templateUses(templates, values)
	inv.Uses = append(inv.Uses, autoScalingUses(groups, configs, templates, values)...)
	inv.Uses = append(inv.Uses, parameterUses(src.Parameters, values)...)

	// Only the images nothing found so far keeps are looked up: the reference check takes ten
	// images a call. Uses through the caller's own parameters do not count here, since the run
	// may point them elsewhere before it plans.
	deletable := provisionalDeletions(inv, src.Parameters, policy)
	refs, err := collectReferences(ctx, src.EC2, deletable, templates)
	switch {
	case errors.Is(err, errNoReferenceCheck):
		src.logf("%s: %v; reading instances, every launch template version and the SSM parameters of data type %s instead",
			src.Region, err, ImageDataType)
		more, err := collectWithoutReferences(ctx, src, candidates, templates)
		if err != nil {
			return Inventory{}, err
		}
		inv.Uses = append(inv.Uses, more...)
	case err != nil:
		return Inventory{}, fmt.Errorf("looking up what refers to the account's images in %s: %w", src.Region, err)
	default:
		inv.Uses = append(inv.Uses, refs...)
	}
	inv.Uses = withoutVagueDuplicates(inv.Uses)

	if !policy.IncludeShared {
		// Only an image nothing else keeps needs its launch permissions read.
		if err := collectShares(ctx, src.EC2, inv.Images, provisionalDeletions(inv, src.Parameters, policy), src.AccountID); err != nil {
			return Inventory{}, fmt.Errorf("reading the launch permissions of the account's images in %s: %w", src.Region, err)
		}
	}
	return inv, nil
}

// collectWithoutReferences finds, where EC2 has no reference check, what the check would have:
// instances launched from the candidates, every version of every launch template, and the
// parameters of data type aws:ec2:image.
func collectWithoutReferences(ctx context.Context, src Sources, candidates []string, templates []launchTemplate) ([]Use, error) {
	uses, err := collectInstanceUses(ctx, src.EC2, candidates)
	if err != nil {
		return nil, fmt.Errorf("listing instances in %s: %w", src.Region, err)
	}
	if err := collectOlderVersions(ctx, src.EC2, templates); err != nil {
		return nil, fmt.Errorf("listing launch template versions in %s: %w", src.Region, err)
	}
	imageParams, err := listImageParameters(ctx, src.SSM)
	if err != nil {
		return nil, fmt.Errorf("listing SSM parameters in %s: %w", src.Region, err)
	}
	values, err := readParameters(ctx, src.SSM, append(resolvedParameters(templates), imageParams...))
	if err != nil {
		return nil, fmt.Errorf("reading SSM parameters in %s: %w", src.Region, err)
	}
	uses = append(uses, templateUses(templates, values)...)
	return append(uses, parameterUses(imageParams, values)...), nil
}

// resolvedParameters names the SSM parameters the template versions read so far launch through.
func resolvedParameters(templates []launchTemplate) []string {
	var names []string
	for _, tpl := range templates {
		for _, v := range tpl.versions {
			if p, ok := strings.CutPrefix(v.imageID, resolveSSMPrefix); ok {
				names = append(names, p)
			}
		}
	}
	return names
}

// parameterUses records the image each named parameter holds.
func parameterUses(names []string, values map[string]string) []Use {
	var uses []Use
	for _, name := range dedupe(names) {
		if v := values[name]; strings.HasPrefix(v, "ami-") {
			uses = append(uses, Use{ImageID: v, Kind: UseSSMParameter, Resource: name})
		}
	}
	return uses
}

// provisionalDeletions is what the plan would delete with the uses found so far, less those
// through own (the caller may repoint them): a superset of what it deletes once every use is known,
// since a use only ever keeps an image.
func provisionalDeletions(inv Inventory, own []string, policy PrunePolicy) []string {
	var uses []Use
	for _, u := range inv.Uses {
		if u.Kind != UseSSMParameter || !slices.ContainsFunc(own, func(name string) bool { return sameParameter(name, u.Resource) }) {
			uses = append(uses, u)
		}
	}
	inv.Uses = uses
	return Plan(inv, policy, time.Now()).ImagesToDelete()
}

// sameParameter reports whether two names are one SSM parameter: a reference's ARN gives names
// without telling whether they began with a slash.
func sameParameter(a, b string) bool {
	return strings.TrimPrefix(a, "/") == strings.TrimPrefix(b, "/")
}

func collectImages(ctx context.Context, api ec2.DescribeImagesAPIClient) ([]Image, error) {
	// Disabled and deprecated images are included: they still hold snapshots that must not be
	// deleted from under them, and they may themselves be pruned.
	pages := ec2.NewDescribeImagesPaginator(api, &ec2.DescribeImagesInput{
		Owners:            []string{"self"},
		IncludeDeprecated: aws.Bool(true),
		IncludeDisabled:   aws.Bool(true),
		MaxResults:        aws.Int32(imagesPageSize),
	})
	var images []Image
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, ti := range page.Images {
			// A deregistered image EC2 still lists holds no snapshot and can be neither launched
			// nor deleted again.
			if ti.State == types.ImageStateDeregistered {
				continue
			}
			img, err := imageFromEC2(ti)
			if err != nil {
				return nil, err
			}
			images = append(images, img)
		}
	}
	return images, nil
}

// imageFromEC2 converts an EC2 image. An unreadable creation date is an error rather than a zero
// time, which would make the image look ancient.
func imageFromEC2(ti types.Image) (Image, error) {
	img := Image{
		ID:      aws.ToString(ti.ImageId),
		Name:    aws.ToString(ti.Name),
		OwnerID: aws.ToString(ti.OwnerId),
		State:   string(ti.State),
		Tags:    TagMap(ti.Tags),
		// Anything but plainly "disabled" protects: "enabled", "enabled-with-cooldown", and
		// "disabled-until <time>" while a cooldown runs.
		DeregistrationProtected: !isUnprotected(aws.ToString(ti.DeregistrationProtection)),
		Snapshots:               SnapshotsOf(ti),
		Public:                  aws.ToBool(ti.Public),
	}
	if v := aws.ToString(ti.LastLaunchedTime); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return Image{}, fmt.Errorf("image %s: reading last launched time %q: %w", img.ID, v, err)
		}
		img.LastLaunched = t
	}
	created, err := time.Parse(time.RFC3339, aws.ToString(ti.CreationDate))
	if err != nil {
		return Image{}, fmt.Errorf("image %s: reading creation date %q: %w", img.ID, aws.ToString(ti.CreationDate), err)
	}
	img.CreationDate = created
	return img, nil
}

func isUnprotected(v string) bool { return v == "" || v == "disabled" }

// SnapshotsOf lists the EBS snapshots behind an image's block device mappings.
func SnapshotsOf(ti types.Image) []Snapshot {
	var snaps []Snapshot
	for _, bdm := range ti.BlockDeviceMappings {
		if bdm.Ebs == nil || aws.ToString(bdm.Ebs.SnapshotId) == "" {
			continue
		}
		snaps = append(snaps, Snapshot{ID: aws.ToString(bdm.Ebs.SnapshotId), SizeGiB: int64(aws.ToInt32(bdm.Ebs.VolumeSize))})
	}
	return snaps
}

// TagMap turns EC2 tags into a map.
func TagMap(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// collectInstanceUses finds the instances, in any state but terminated, launched from one of the
// candidate images, asking for as many images per call as EC2's limit on filter values leaves
// beside the state filter (195).
func collectInstanceUses(ctx context.Context, api ec2.DescribeInstancesAPIClient, imageIDs []string) ([]Use, error) {
	var uses []Use
	for batch := range chunks(imageIDs, filterValuesPerCall-len(instanceInUseStates)) {
		pages := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{
			Filters: []types.Filter{
				{Name: aws.String("image-id"), Values: batch},
				{Name: aws.String("instance-state-name"), Values: instanceInUseStates},
			},
			MaxResults: aws.Int32(instancesPageSize),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					state := ""
					if in.State != nil {
						state = string(in.State.Name)
					}
					if state == "terminated" {
						continue
					}
					uses = append(uses, Use{
						ImageID: aws.ToString(in.ImageId), Kind: UseInstance,
						Resource: aws.ToString(in.InstanceId), Detail: state,
					})
				}
			}
		}
	}
	return uses, nil
}

// launchTemplate is one template with the image of each of its versions.
type launchTemplate struct {
	id, name                      string
	defaultVersion, latestVersion int64
	versions                      []templateVersion
}

type templateVersion struct {
	number  int64
	imageID string // an AMI id, "resolve:ssm:<parameter>", or empty
}

// collectLaunchTemplates lists every launch template with the image of its $Default and $Latest
// versions, which EC2 describes for all templates in one stream. The calls grow with the number of
// templates, never with the number of images.
func collectLaunchTemplates(ctx context.Context, api InventoryEC2API) ([]launchTemplate, error) {
	var templates []launchTemplate
	pages := ec2.NewDescribeLaunchTemplatesPaginator(api, &ec2.DescribeLaunchTemplatesInput{
		MaxResults: aws.Int32(launchTemplatesPageSize),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lt := range page.LaunchTemplates {
			templates = append(templates, launchTemplate{
				id:             aws.ToString(lt.LaunchTemplateId),
				name:           aws.ToString(lt.LaunchTemplateName),
				defaultVersion: aws.ToInt64(lt.DefaultVersionNumber),
				latestVersion:  aws.ToInt64(lt.LatestVersionNumber),
			})
		}
	}
	if len(templates) == 0 {
		return nil, nil
	}
	current := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}}
	if err := readVersions(ctx, api, templates, current); err != nil {
		return nil, fmt.Errorf("$Latest and $Default versions: %w", err)
	}
	return templates, nil
}

// collectOlderVersions reads every version of the templates that have versions besides $Default
// and $Latest: an Auto Scaling group, a script or a user may launch any version number. Each such
// template is read in a stream of its own.
func collectOlderVersions(ctx context.Context, api InventoryEC2API, templates []launchTemplate) error {
	for i := range templates {
		tpl := &templates[i]
		if !tpl.hasOlderVersions() {
			continue
		}
		if err := readVersions(ctx, api, templates, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(tpl.id)}); err != nil {
			return fmt.Errorf("versions of %s: %w", tpl.id, err)
		}
	}
	return nil
}

// readVersions reads the template versions in asks for, in pages, into the templates they belong
// to. A template created after the listing is not known: it is younger than this run.
func readVersions(ctx context.Context, api ec2.DescribeLaunchTemplateVersionsAPIClient, templates []launchTemplate, in *ec2.DescribeLaunchTemplateVersionsInput) error {
	byID := make(map[string]*launchTemplate, len(templates))
	for i := range templates {
		byID[templates[i].id] = &templates[i]
	}
	in.MaxResults = aws.Int32(templateVersionsPage)
	pages := ec2.NewDescribeLaunchTemplateVersionsPaginator(api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, v := range page.LaunchTemplateVersions {
			if tpl := byID[aws.ToString(v.LaunchTemplateId)]; tpl != nil {
				tpl.addVersion(v)
			}
		}
	}
	return nil
}

// hasOlderVersions reports whether the template may have versions that are neither $Default nor
// $Latest. Versions are numbered from 1; deleted ones only make this err on the side of reading.
func (t launchTemplate) hasOlderVersions() bool {
	for n := int64(1); n <= t.latestVersion; n++ {
		if n != t.defaultVersion && n != t.latestVersion {
			return true
		}
	}
	return false
}

// addVersion records a version once, whichever stream returned it first.
func (t *launchTemplate) addVersion(v types.LaunchTemplateVersion) {
	n := aws.ToInt64(v.VersionNumber)
	for _, have := range t.versions {
		if have.number == n {
			return
		}
	}
	tv := templateVersion{number: n}
	if v.LaunchTemplateData != nil {
		tv.imageID = aws.ToString(v.LaunchTemplateData.ImageId)
	}
	t.versions = append(t.versions, tv)
}

// imageOf resolves a template version's image, following resolve:ssm: through the values read.
func (v templateVersion) imageOf(values map[string]string) (imageID, via string) {
	if p, ok := strings.CutPrefix(v.imageID, resolveSSMPrefix); ok {
		return values[p], v.imageID
	}
	return v.imageID, ""
}

func (t launchTemplate) label() string {
	if t.name == "" {
		return t.id
	}
	return t.id + " " + t.name
}

func templateUses(templates []launchTemplate, values map[string]string) []Use {
	var uses []Use
	for _, tpl := range templates {
		for _, v := range tpl.versions {
			img, via := v.imageOf(values)
			if img == "" {
				continue
			}
			detail := "version " + strconv.FormatInt(v.number, 10)
			var marks []string
			if v.number == tpl.defaultVersion {
				marks = append(marks, "$Default")
			}
			if v.number == tpl.latestVersion {
				marks = append(marks, "$Latest")
			}
			if len(marks) > 0 {
				detail += " " + strings.Join(marks, " ")
			}
			if via != "" {
				detail += " via " + via
			}
			uses = append(uses, Use{ImageID: img, Kind: UseLaunchTemplate, Resource: tpl.label(), Detail: detail})
		}
	}
	return uses
}

func collectAutoScaling(ctx context.Context, api InventoryAutoScalingAPI) ([]astypes.AutoScalingGroup, map[string]string, error) {
	var groups []astypes.AutoScalingGroup
	gp := autoscaling.NewDescribeAutoScalingGroupsPaginator(api, &autoscaling.DescribeAutoScalingGroupsInput{
		MaxRecords: aws.Int32(autoScalingPageSize),
	})
	for gp.HasMorePages() {
		page, err := gp.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		groups = append(groups, page.AutoScalingGroups...)
	}
	configs := map[string]string{}
	cp := autoscaling.NewDescribeLaunchConfigurationsPaginator(api, &autoscaling.DescribeLaunchConfigurationsInput{
		MaxRecords: aws.Int32(autoScalingPageSize),
	})
	for cp.HasMorePages() {
		page, err := cp.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, lc := range page.LaunchConfigurations {
			configs[aws.ToString(lc.LaunchConfigurationName)] = aws.ToString(lc.ImageId)
		}
	}
	return groups, configs, nil
}

// autoScalingUses records every launch configuration's image, and for every group the image it
// launches: through its launch configuration, its launch template (by id or name, at the version
// it names: $Default when none, $Latest, or a number), or the templates and image overrides of a
// mixed instances policy.
func autoScalingUses(groups []astypes.AutoScalingGroup, configs map[string]string, templates []launchTemplate, values map[string]string) []Use {
	var uses []Use
	for _, name := range slices.Sorted(maps.Keys(configs)) {
		if img := configs[name]; img != "" {
			uses = append(uses, Use{ImageID: img, Kind: UseLaunchConfiguration, Resource: name})
		}
	}

	index := indexTemplates(templates)
	fromTemplate := func(group string, spec *astypes.LaunchTemplateSpecification) {
		tpl := index.find(spec)
		if tpl == nil {
			return // a template that no longer exists launches nothing
		}
		version := aws.ToString(spec.Version)
		number := tpl.defaultVersion
		switch version {
		case "", "$Default":
			version = "$Default"
		case "$Latest":
			number = tpl.latestVersion
		default:
			n, err := strconv.ParseInt(version, 10, 64)
			if err != nil {
				return
			}
			number = n
		}
		for _, v := range tpl.versions {
			if v.number != number {
				continue
			}
			if img, via := v.imageOf(values); img != "" {
				detail := fmt.Sprintf("launch template %s %s", tpl.label(), version)
				if via != "" {
					detail += " via " + via
				}
				uses = append(uses, Use{ImageID: img, Kind: UseAutoScalingGroup, Resource: group, Detail: detail})
			}
		}
	}
	for _, g := range groups {
		name := aws.ToString(g.AutoScalingGroupName)
		if lc := aws.ToString(g.LaunchConfigurationName); lc != "" && configs[lc] != "" {
			uses = append(uses, Use{ImageID: configs[lc], Kind: UseAutoScalingGroup, Resource: name, Detail: "launch configuration " + lc})
		}
		for _, spec := range groupTemplateSpecs(g) {
			fromTemplate(name, spec)
		}
		if mip := g.MixedInstancesPolicy; mip != nil && mip.LaunchTemplate != nil {
			for _, o := range mip.LaunchTemplate.Overrides {
				if img := aws.ToString(o.ImageId); img != "" {
					uses = append(uses, Use{ImageID: img, Kind: UseAutoScalingGroup, Resource: name, Detail: "mixed instances policy override"})
				}
			}
		}
	}
	return uses
}

// listImageParameters names every parameter of data type aws:ec2:image: the ones EC2 launches
// from by name.
func listImageParameters(ctx context.Context, api ssm.DescribeParametersAPIClient) ([]string, error) {
	pages := ssm.NewDescribeParametersPaginator(api, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("DataType"), Option: aws.String("Equals"), Values: []string{ImageDataType}},
		},
		MaxResults: aws.Int32(parametersPageSize),
	})
	var names []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
	}
	return names, nil
}

// readParameters reads SSM parameters ten names per call. A name may carry a version or label
// selector ("/p:3", "/p:prod"), as resolve:ssm: allows. Parameters that do not exist are left
// out: nothing can launch through them.
func readParameters(ctx context.Context, api InventorySSMAPI, names []string) (map[string]string, error) {
	list := dedupe(names)
	values := map[string]string{}
	for batch := range chunks(list, parametersBatch) {
		out, err := api.GetParameters(ctx, &ssm.GetParametersInput{Names: batch})
		if err != nil {
			return nil, err
		}
		for _, p := range out.Parameters {
			name := aws.ToString(p.Name)
			values[name] = aws.ToString(p.Value)
			// The answer names the parameter without its selector; map the selector form too.
			if sel := aws.ToString(p.Selector); sel != "" {
				values[name+sel] = aws.ToString(p.Value)
			}
		}
	}
	return values, nil
}

// dedupe returns the non-empty strings of s, once each, sorted.
func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// chunks yields s in consecutive pieces of at most n elements.
func chunks[T any](s []T, n int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// collectShares reads the launch permissions of the given images, one DescribeImageAttribute call
// each (EC2 lists them per image only): an image shared with another account may be in use there,
// where this account cannot see.
func collectShares(ctx context.Context, api InventoryEC2API, images []Image, candidates []string, account string) error {
	want := map[string]bool{}
	for _, id := range candidates {
		want[id] = true
	}
	for i := range images {
		img := &images[i]
		if !want[img.ID] || img.OwnerID != account || img.Public {
			continue
		}
		out, err := api.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
			ImageId: aws.String(img.ID), Attribute: types.ImageAttributeNameLaunchPermission,
		})
		if err != nil {
			return fmt.Errorf("%s: %w", img.ID, err)
		}
		for _, lp := range out.LaunchPermissions {
			switch {
			case lp.Group == types.PermissionGroupAll:
				img.Public = true
			case aws.ToString(lp.UserId) != "":
				img.SharedWith = append(img.SharedWith, aws.ToString(lp.UserId))
			case aws.ToString(lp.OrganizationArn) != "":
				img.SharedWith = append(img.SharedWith, aws.ToString(lp.OrganizationArn))
			case aws.ToString(lp.OrganizationalUnitArn) != "":
				img.SharedWith = append(img.SharedWith, aws.ToString(lp.OrganizationalUnitArn))
			}
		}
	}
	return nil
}
