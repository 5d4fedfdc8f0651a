package ec2sim

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// SeedFile is the JSON document the standalone server loads with -seed: what exists in each
// region before the first request. Ids are generated where omitted; give them where other
// entries refer to them (an instance's image, a group's launch template).
type SeedFile struct {
	Regions map[string]RegionSeed `json:"regions"`
}

// RegionSeed is what one region starts with, on top of the public images and parameters every
// region has.
type RegionSeed struct {
	// KMSKeys are customer managed keys, created first so that snapshots can name them by alias.
	KMSKeys              []KMSKeySeed              `json:"kmsKeys,omitempty"`
	Images               []ImageSeed               `json:"images,omitempty"`
	LaunchTemplates      []LaunchTemplateSeed      `json:"launchTemplates,omitempty"`
	Instances            []InstanceSeed            `json:"instances,omitempty"`
	LaunchConfigurations []LaunchConfigurationSeed `json:"launchConfigurations,omitempty"`
	AutoScalingGroups    []ASGSeed                 `json:"autoScalingGroups,omitempty"`
	Parameters           []ParameterSeed           `json:"parameters,omitempty"`
}

// KMSKeySeed is a customer managed KMS key, known by its alias ("alias/golden" or "golden").
type KMSKeySeed struct {
	Alias string `json:"alias"`
}

// LaunchConfigurationSeed is an Auto Scaling launch configuration.
type LaunchConfigurationSeed struct {
	Name    string `json:"name"`
	ImageID string `json:"imageId"`
}

// ParameterSeed is an SSM String parameter.
type ParameterSeed struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	DataType string `json:"dataType,omitempty"` // "text" (default) or "aws:ec2:image"
}

// ReadSeedFile reads a seed document from path. Unknown fields are errors, so a misspelt key
// does not silently seed nothing.
func ReadSeedFile(path string) (SeedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return SeedFile{}, fmt.Errorf("opening seed file: %w", err)
	}
	defer f.Close()
	return DecodeSeed(f)
}

// DecodeSeed reads a seed document.
func DecodeSeed(r io.Reader) (SeedFile, error) {
	var sf SeedFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sf); err != nil {
		return SeedFile{}, fmt.Errorf("decoding seed file: %w", err)
	}
	return sf, nil
}

// Seed creates everything a seed document describes. It checks every region name and required
// field first, so a bad document changes nothing.
func (s *Server) Seed(sf SeedFile) error {
	regions := make([]string, 0, len(sf.Regions))
	for name := range sf.Regions {
		regions = append(regions, name)
	}
	sort.Strings(regions)
	for _, name := range regions {
		if err := checkRegionSeed(name, sf.Regions[name]); err != nil {
			return err
		}
		if err := s.checkAliasesFree(name, sf.Regions[name].KMSKeys); err != nil {
			return err
		}
	}
	for _, name := range regions {
		rs := sf.Regions[name]
		for _, k := range rs.KMSKeys {
			s.AddKMSKey(name, k.Alias)
		}
		for _, img := range rs.Images {
			s.AddImage(name, img)
		}
		for _, lt := range rs.LaunchTemplates {
			s.AddLaunchTemplate(name, lt)
		}
		for _, in := range rs.Instances {
			s.AddInstance(name, in)
		}
		for _, lc := range rs.LaunchConfigurations {
			s.AddLaunchConfiguration(name, lc.Name, lc.ImageID)
		}
		for _, g := range rs.AutoScalingGroups {
			s.AddAutoScalingGroup(name, g)
		}
		for _, p := range rs.Parameters {
			s.PutParameter(name, p.Name, p.Value, p.DataType)
		}
	}
	return nil
}

func checkRegionSeed(region string, rs RegionSeed) error {
	if !knownRegion(region) {
		return fmt.Errorf("seed: unknown region %q", region)
	}
	aliases := map[string]bool{}
	for i, k := range rs.KMSKeys {
		alias := aliasName(k.Alias)
		switch {
		case k.Alias == "":
			return fmt.Errorf("seed: %s: KMS key %d has no alias", region, i+1)
		case strings.HasPrefix(alias, "alias/aws/"):
			return fmt.Errorf("seed: %s: KMS key alias %s is reserved for AWS managed keys", region, k.Alias)
		case aliases[alias]:
			return fmt.Errorf("seed: %s: KMS key alias %s is given twice", region, k.Alias)
		}
		aliases[alias] = true
	}
	for i, img := range rs.Images {
		if img.Name == "" {
			return fmt.Errorf("seed: %s: image %d has no name", region, i+1)
		}
		if img.ID != "" && !amiIDPattern.MatchString(img.ID) {
			return fmt.Errorf("seed: %s: image id %q is not in the ami-... format", region, img.ID)
		}
		switch img.State {
		case "", "available", "pending", "failed", "disabled":
		default:
			return fmt.Errorf("seed: %s: image %q has unknown state %q", region, img.Name, img.State)
		}
	}
	for i, lt := range rs.LaunchTemplates {
		if lt.Name == "" || len(lt.Versions) == 0 {
			return fmt.Errorf("seed: %s: launch template %d needs a name and at least one version", region, i+1)
		}
		if lt.DefaultVersion > len(lt.Versions) {
			return fmt.Errorf("seed: %s: launch template %q: default version %d does not exist", region, lt.Name, lt.DefaultVersion)
		}
	}
	for i, in := range rs.Instances {
		if in.ImageID == "" {
			return fmt.Errorf("seed: %s: instance %d has no imageId", region, i+1)
		}
		if _, ok := stateCodes[in.State]; in.State != "" && !ok {
			return fmt.Errorf("seed: %s: instance %d has unknown state %q", region, i+1, in.State)
		}
	}
	for i, g := range rs.AutoScalingGroups {
		if g.Name == "" {
			return fmt.Errorf("seed: %s: auto scaling group %d has no name", region, i+1)
		}
	}
	for i, p := range rs.Parameters {
		if p.Name == "" || p.Value == "" {
			return fmt.Errorf("seed: %s: parameter %d needs a name and a value", region, i+1)
		}
	}
	return nil
}

// checkAliasesFree refuses seed keys whose alias a region already has.
func (s *Server) checkAliasesFree(region string, keys []KMSKeySeed) error {
	var err error
	s.withRegion(region, func(rs *regionState) {
		for _, k := range keys {
			alias := aliasName(k.Alias)
			if _, taken := rs.kmsAliases[alias]; taken && err == nil {
				err = fmt.Errorf("seed: %s: KMS key alias %s already exists", region, alias)
			}
		}
	})
	return err
}
