package ebs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/packerbuilderdata"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/amiselect"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// generatedDataNames are the names of the build's generated data, as amazon-ebs names them, so
// that templates written for it read the same values.
var generatedDataNames = []string{"SourceAMIName", "BuildRegion", "SourceAMI", "SourceAMICreationDate",
	"SourceAMIOwner", "SourceAMIOwnerName", "SourceAMIDescription"}

// ssmAPI is the Systems Manager call the step makes.
type ssmAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// StepSourceAMI resolves the source AMI (source_ami, source_ami_filter, source_ami_ssm_parameter
// or source_os), checks it can be built from (available, EBS-backed, the vendor's for source_os,
// the boot mode and TPM support asked for), and puts it under launch.StateSourceImage with the
// generated data. It creates nothing.
type StepSourceAMI struct {
	Config    *Config
	Generated *packerbuilderdata.GeneratedData
	// Now returns the current time, against which deprecation is judged; nil means time.Now.
	Now func() time.Time
}

func (s *StepSourceAMI) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	image, err := s.resolve(ctx, state.Get(launch.StateEC2).(launch.EC2API), state.Get(stateSSM).(ssmAPI))
	if err == nil {
		err = s.check(image)
	}
	if err != nil {
		return halt(state, err)
	}
	ui.Say(fmt.Sprintf("Source AMI: %s (%s, owner %s, created %s)", aws.ToString(image.ImageId), aws.ToString(image.Name),
		aws.ToString(image.OwnerId), aws.ToString(image.CreationDate)))
	state.Put(launch.StateSourceImage, image)
	g := s.Generated
	g.Put("SourceAMI", aws.ToString(image.ImageId))
	g.Put("SourceAMIName", aws.ToString(image.Name))
	g.Put("SourceAMIDescription", aws.ToString(image.Description))
	g.Put("SourceAMICreationDate", aws.ToString(image.CreationDate))
	g.Put("SourceAMIOwner", aws.ToString(image.OwnerId))
	g.Put("SourceAMIOwnerName", aws.ToString(image.ImageOwnerAlias))
	g.Put("BuildRegion", s.Config.Region)
	return multistep.ActionContinue
}

func (s *StepSourceAMI) Cleanup(multistep.StateBag) {}

func (s *StepSourceAMI) resolve(ctx context.Context, api launch.EC2API, params ssmAPI) (types.Image, error) {
	c := s.Config
	switch {
	case c.SourceAMI != "":
		return describeOne(ctx, api, "source_ami", c.SourceAMI)
	case c.SourceAMISSMParameter != "":
		id, err := parameterValue(ctx, params, "source_ami_ssm_parameter", c.SourceAMISSMParameter)
		if err != nil {
			return types.Image{}, err
		}
		return describeOne(ctx, api, "source_ami_ssm_parameter", id)
	case c.SourceOS != "":
		return s.resolveOS(ctx, api, params)
	default:
		return s.resolveFilter(ctx, api)
	}
}

func (s *StepSourceAMI) resolveOS(ctx context.Context, api launch.EC2API, params ssmAPI) (types.Image, error) {
	c := s.Config
	vendor := sourceOSes[c.SourceOS]
	arch := architectureOf(c.InstanceTypeList()[0])
	id, err := parameterValue(ctx, params, "source_os", vendor.parameter[arch])
	if err != nil {
		return types.Image{}, err
	}
	image, err := describeOne(ctx, api, "source_os", id)
	if err != nil {
		return types.Image{}, err
	}
	owner, alias := aws.ToString(image.OwnerId), aws.ToString(image.ImageOwnerAlias)
	if owner != vendor.owner && (vendor.ownerAlias == "" || alias != vendor.ownerAlias) {
		return types.Image{}, fmt.Errorf("source_os: %s names %s, owned by %s, not by the vendor's account %s", vendor.parameter[arch], id, owner, vendor.owner)
	}
	return image, nil
}

// resolveFilter searches with source_ami_filter and picks as golden-ami does: available, not
// deprecated unless include_deprecated (EC2 shows an owner its own deprecated images whatever the
// request says), the newest when most_recent.
func (s *StepSourceAMI) resolveFilter(ctx context.Context, api launch.EC2API) (types.Image, error) {
	f := s.Config.SourceAMIFilter
	in := &ec2.DescribeImagesInput{Owners: f.Owners, IncludeDeprecated: aws.Bool(f.IncludeDeprecated)}
	for _, name := range slices.Sorted(maps.Keys(f.Filters)) {
		in.Filters = append(in.Filters, types.Filter{Name: aws.String(name), Values: []string{f.Filters[name]}})
	}
	images, err := amiselect.DescribeAll(ctx, api, in)
	if err != nil {
		return types.Image{}, fmt.Errorf("source_ami_filter: %w", err)
	}
	image, err := amiselect.Pick(images, amiselect.Criteria{
		Region: s.Config.Region, Owners: f.Owners, Filters: f.Filters,
		IncludeDeprecated: f.IncludeDeprecated, MostRecent: f.MostRecent,
	}, s.now())
	if err != nil {
		return types.Image{}, fmt.Errorf("source_ami_filter: %w", err)
	}
	return image, nil
}

func (s *StepSourceAMI) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *StepSourceAMI) check(image types.Image) error {
	c := s.Config
	id := aws.ToString(image.ImageId)
	if image.State != types.ImageStateAvailable {
		return fmt.Errorf("source AMI %s is %s, not available", id, image.State)
	}
	if image.RootDeviceType != "" && image.RootDeviceType != types.DeviceTypeEbs {
		return fmt.Errorf("source AMI %s is backed by %s; golden-ebs builds from EBS-backed images", id, image.RootDeviceType)
	}
	if c.BootMode != "" && image.BootMode != "" && string(image.BootMode) != c.BootMode {
		return fmt.Errorf("boot_mode: %q, but source AMI %s boots %s, and an image keeps its source's boot mode", c.BootMode, id, image.BootMode)
	}
	if c.TPMSupport != "" && string(image.TpmSupport) != c.TPMSupport {
		return fmt.Errorf("tpm_support: %q, but source AMI %s has no NitroTPM support, and an image inherits it", c.TPMSupport, id)
	}
	if size := c.RootVolume.VolumeSize; size != 0 {
		if root := rootMapping(image); root != nil && root.Ebs != nil && aws.ToInt32(root.Ebs.VolumeSize) > size {
			return fmt.Errorf("root_volume.volume_size: %d GiB is smaller than the source AMI's %d GiB root snapshot", size, aws.ToInt32(root.Ebs.VolumeSize))
		}
	}
	return nil
}

// rootMapping is the image's mapping of its root device, nil when it has none.
func rootMapping(image types.Image) *types.BlockDeviceMapping {
	for i, m := range image.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == aws.ToString(image.RootDeviceName) {
			return &image.BlockDeviceMappings[i]
		}
	}
	return nil
}

func describeOne(ctx context.Context, api launch.EC2API, option, id string) (types.Image, error) {
	// Prepare lets Packer's placeholder for a value not known yet through (package unknown); a build
	// knows every value, so a placeholder here was written out, and an SSM parameter may hold anything.
	if !amiref.ValidImageID(id) {
		return types.Image{}, fmt.Errorf("%s: %q is not an AMI id (ami- and 8 or 17 hex digits)", option, id)
	}
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}, IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		return types.Image{}, fmt.Errorf("%s: describing %s: %w", option, id, err)
	}
	if len(out.Images) == 0 {
		return types.Image{}, fmt.Errorf("%s: AMI %s not found", option, id)
	}
	return out.Images[0], nil
}

func parameterValue(ctx context.Context, api ssmAPI, option, name string) (string, error) {
	out, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("%s: reading SSM parameter %s: %w", option, name, err)
	}
	return aws.ToString(out.Parameter.Value), nil
}
