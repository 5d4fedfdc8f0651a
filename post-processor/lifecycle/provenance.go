package lifecycle

import (
	"fmt"
	"os"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// hardenSuite is the suite name golden-harden writes in its reports.
const hardenSuite = "golden-harden"

// provenance is what the image records about how it was made.
type provenance struct {
	buildID, buildName, packerVersion string
	sourceAMI                         string
	gitCommit, gitRef                 string
	hardenProfile, hardenScore        string
}

// provenanceFrom reads the provenance from the configuration, the input artifact and, when
// harden_report is set, golden-harden's report.
//
// golden-ebs puts what it knows in its artifact's state under the golden:* tag keys
// (goldentag.BuildID, SourceAMI, HardenProfile, HardenScore); amazon-ebs has the source AMI and
// the run id in its generated data, and nothing about hardening, which harden_report supplies.
// What the artifact carries wins over the report: it comes from this very build, while a report
// file could be left over from another. The build id falls back to the PACKER_RUN_UUID Packer
// gives every build.
func provenanceFrom(c *Config, in amiref.Artifact) (provenance, error) {
	p := provenance{
		buildName:     c.PackerBuildName,
		packerVersion: c.PackerCoreVersion,
		gitCommit:     c.GitCommit,
		gitRef:        c.GitRef,
		buildID:       in.RunUUID,
		sourceAMI:     in.SourceAMI,
		hardenProfile: in.Provenance(goldentag.HardenProfile, ""),
		hardenScore:   in.Provenance(goldentag.HardenScore, ""),
	}
	if p.buildID == "" {
		p.buildID = os.Getenv("PACKER_RUN_UUID")
	}

	if c.HardenReport != "" {
		profile, score, err := readHardenReport(c.HardenReport)
		if err != nil {
			return provenance{}, err
		}
		if p.hardenProfile == "" {
			p.hardenProfile = profile
		}
		if p.hardenScore == "" {
			p.hardenScore = score
		}
	}
	return p, nil
}

// readHardenReport reads the profile and the score of a golden-harden JSON report.
func readHardenReport(path string) (profile, score string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("harden_report: %w", err)
	}
	r, err := report.ParseJSON(data)
	if err != nil {
		return "", "", fmt.Errorf("harden_report: %s: %w", path, err)
	}
	if r.Suite != hardenSuite {
		return "", "", fmt.Errorf("harden_report: %s is a report of %q, not of %s", path, r.Suite, hardenSuite)
	}
	profile = r.Property("profile")
	if profile == "" {
		return "", "", fmt.Errorf("harden_report: %s names no profile", path)
	}
	return profile, formatScore(r.Score), nil
}

// formatScore renders a compliance percentage to one decimal, without trailing zeros: "97.5",
// "100".
func formatScore(score float64) string { return amiref.Text(score) }

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
