package lifecycle

import (
	"fmt"
	"os"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// provenance is what the image records about how it was made.
type provenance struct {
	buildID, buildName, packerVersion string
	sourceAMI                         string
	gitCommit, gitRef                 string
	hardenProfile, hardenScore        string
}

// provenanceFrom reads the provenance from the configuration and the input artifact. golden-ebs
// puts it in its state under the golden:* tag keys; amazon-ebs has the source AMI in its
// generated data; the build id falls back to the PACKER_RUN_UUID Packer gives every build.
func provenanceFrom(c *Config, input packersdk.Artifact) provenance {
	p := provenance{
		buildName:     c.PackerBuildName,
		packerVersion: c.PackerCoreVersion,
		gitCommit:     c.GitCommit,
		gitRef:        c.GitRef,
	}
	var generated map[string]interface{}
	if input != nil {
		generated, _ = input.State("generated_data").(map[string]interface{})
	}
	read := func(stateKey string, generatedKeys ...string) string {
		if input != nil {
			if v := stateString(input.State(stateKey)); v != "" {
				return v
			}
		}
		for _, k := range generatedKeys {
			if v := stateString(generated[k]); v != "" {
				return v
			}
		}
		return ""
	}
	p.buildID = read(goldentag.BuildID, "PackerRunUUID")
	if p.buildID == "" {
		p.buildID = os.Getenv("PACKER_RUN_UUID")
	}
	p.sourceAMI = read(goldentag.SourceAMI, "SourceAMI")
	p.hardenProfile = read(goldentag.HardenProfile, "HardenProfile")
	p.hardenScore = read(goldentag.HardenScore, "HardenScore")
	return p
}

// stateString renders a state value that is a string or a number; anything else is not provenance.
func stateString(v interface{}) string {
	switch v := v.(type) {
	case string:
		return v
	case int, int64, float64, float32:
		return fmt.Sprint(v)
	}
	return ""
}

// tags returns the provenance as tags, leaving out what is unknown.
func (p provenance) tags() map[string]string {
	tags := map[string]string{}
	for k, v := range map[string]string{
		goldentag.BuildID:       p.buildID,
		goldentag.BuildName:     p.buildName,
		goldentag.PackerVersion: p.packerVersion,
		goldentag.SourceAMI:     p.sourceAMI,
		goldentag.GitCommit:     p.gitCommit,
		goldentag.GitRef:        p.gitRef,
		goldentag.HardenProfile: p.hardenProfile,
		goldentag.HardenScore:   p.hardenScore,
	} {
		if v != "" {
			tags[k] = v
		}
	}
	return tags
}
