package amiref

import (
	"fmt"
	"math"
	"strconv"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// The keys of generated_data this plugin reads: packer-plugin-amazon's builders put them there,
// and Packer core adds the run's id.
const (
	GeneratedBuildRegion = "BuildRegion"
	GeneratedSourceAMI   = "SourceAMI"
	GeneratedRunUUID     = "PackerRunUUID"
)

// GeneratedDataState is the artifact state key under which builders hand their generated data
// to post-processors.
const GeneratedDataState = "generated_data"

// Artifact is what this plugin reads from an AMI artifact, however it reached the component:
// directly, or through Packer's plugin RPC, whose msgpack codec turns every map into
// map[interface{}]interface{} and numbers into whatever width it chooses. Every read of another
// component's artifact goes through Read, so that one tested path decides what a value means.
type Artifact struct {
	// BuilderID is the artifact's builder id; Component the name users know it by.
	BuilderID, Component string
	// Images are the artifact's AMIs, in the order of its id.
	Images []Ref
	// Generated is the builder's generated_data with string keys and normalized values; empty when
	// the artifact has none.
	Generated map[string]interface{}
	// BuildRegion is the region the builder built in (generated BuildRegion), "" when unknown.
	BuildRegion string
	// SourceAMI is the image the build started from: the golden:source-ami state a golden-ebs
	// artifact carries, else the generated SourceAMI of the amazon builders.
	SourceAMI string
	// RunUUID identifies the Packer run: the golden:build-id state, else the generated
	// PackerRunUUID.
	RunUUID string

	artifact packersdk.Artifact
}

// Read reads an AMI artifact: its images (see FromArtifact), its generated data and the
// provenance it carries.
func Read(a packersdk.Artifact) (Artifact, error) {
	refs, err := FromArtifact(a)
	if err != nil {
		return Artifact{}, err
	}
	out := Artifact{
		BuilderID: a.BuilderId(), Component: acceptedBuilders[a.BuilderId()],
		Images: refs, Generated: GeneratedData(a), artifact: a,
	}
	out.BuildRegion = Text(out.Generated[GeneratedBuildRegion])
	out.SourceAMI = out.Provenance(goldentag.SourceAMI, GeneratedSourceAMI)
	out.RunUUID = out.Provenance(goldentag.BuildID, GeneratedRunUUID)
	return out, nil
}

// Provenance reads a value the artifact carries: its state under stateKey (the golden:* keys
// golden-ebs sets), else its generated data under generatedKey ("" to skip).
func (a Artifact) Provenance(stateKey, generatedKey string) string {
	if a.artifact != nil {
		if v := Text(a.artifact.State(stateKey)); v != "" {
			return v
		}
	}
	if generatedKey == "" {
		return ""
	}
	return Text(a.Generated[generatedKey])
}

// Built splits the images into the one the build produced and the copies the builder already
// made: the image in the build region, else the one in fallbackRegion (the component's own
// region), else the first. A builder told to drop the build region's image (amazon-ebs
// skip_save_build_region) leaves only copies; one of them stands in for it.
func (a Artifact) Built(fallbackRegion string) (Ref, []Ref) {
	idx := -1
	for _, want := range []string{a.BuildRegion, fallbackRegion} {
		if want == "" {
			continue
		}
		for i, r := range a.Images {
			if r.Region == want {
				idx = i
				break
			}
		}
		if idx >= 0 {
			break
		}
	}
	if idx < 0 {
		idx = 0
	}
	var others []Ref
	for i, r := range a.Images {
		if i != idx {
			others = append(others, r)
		}
	}
	return a.Images[idx], others
}

// GeneratedData returns the artifact's generated_data with string keys, or an empty map.
func GeneratedData(a packersdk.Artifact) map[string]interface{} {
	if a == nil {
		return map[string]interface{}{}
	}
	m, _ := Map(a.State(GeneratedDataState))
	if m == nil {
		m = map[string]interface{}{}
	}
	return m
}

// Map converts a map as it arrives directly (map[string]interface{}, map[string]string) or through
// the plugin RPC (map[interface{}]interface{}) into map[string]interface{}, normalizing nested
// values the same way. ok is false when v is not a map or has a key that is not a string.
func Map(v interface{}) (map[string]interface{}, bool) {
	switch m := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(m))
		for k, val := range m {
			out[k] = Normalize(val)
		}
		return out, true
	case map[string]string:
		out := make(map[string]interface{}, len(m))
		for k, val := range m {
			out[k] = val
		}
		return out, true
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(m))
		for k, val := range m {
			key, isText := k.(string)
			if !isText {
				return nil, false
			}
			out[key] = Normalize(val)
		}
		return out, true
	}
	return nil, false
}

// Normalize turns what the RPC codec produces into plain Go values: maps with string keys, byte
// strings into strings, slices element by element; anything else is returned as is.
func Normalize(v interface{}) interface{} {
	switch val := v.(type) {
	case []byte:
		return string(val)
	case []interface{}:
		out := make([]interface{}, len(val))
		for i, e := range val {
			out[i] = Normalize(e)
		}
		return out
	}
	if m, ok := Map(v); ok {
		return m
	}
	return v
}

// Text renders a value that is a string or a number of any width as a string; anything else (a
// map, a list, nil) is "". Whole numbers print without a fraction; fractional ones (scores) with at
// most one decimal.
func Text(v interface{}) string {
	switch val := v.(type) {
	case string:
		return val
	case []byte:
		return string(val)
	case int:
		return strconv.Itoa(val)
	case int8, int16, int32, int64:
		return fmt.Sprint(val)
	case uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(val)
	case float32:
		return formatFloat(float64(val))
	case float64:
		return formatFloat(val)
	}
	return ""
}

// formatFloat renders a score to one decimal without trailing zeros: "97.5", "100".
func formatFloat(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// Strings returns a map's text values (see Text); values that are not text are left out.
func Strings(v interface{}) map[string]string {
	m, _ := Map(v)
	out := make(map[string]string, len(m))
	for k, val := range m {
		if s := Text(val); s != "" {
			out[k] = s
		}
	}
	return out
}
