package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// The files the demo's template writes into its report folder.
const (
	packerManifestFile = "packer-manifest.json"
	hardenFile         = "harden.json"
	validateFile       = "validate.json"
	lifecycleFile      = "lifecycle.json"
)

// Summary is what the demo produced, from its reports and from AWS (the simulator) afterwards.
type Summary struct {
	ReportDir string   `json:"report_dir"`
	Reports   []string `json:"reports"`

	// Image is the AMI the build made, SourceAMI the vendor image it started from, Replaces the
	// image the fleet ran before (the template's data source).
	Image     string `json:"image"`
	ImageName string `json:"image_name"`
	SourceAMI string `json:"source_ami"`
	Replaces  string `json:"replaces,omitempty"`

	Regions    []RegionImage `json:"regions"`
	SharedWith []string      `json:"shared_with,omitempty"`

	Harden   HardenSummary   `json:"harden"`
	Validate ValidateSummary `json:"validate"`
	Prune    PruneSummary    `json:"prune"`
	Stages   []Stage         `json:"stages,omitempty"`

	// Leftovers are the temporary instances of the build and the validation that are not
	// terminated.
	Leftovers []Instance `json:"leftovers"`
}

// RegionImage is the image in one region: what golden-lifecycle's manifest says, and what AWS
// says about it now.
type RegionImage struct {
	Region string `json:"region"`
	AMI    string `json:"ami"`
	// CopiedFrom is "region:ami" for copies.
	CopiedFrom string `json:"copied_from,omitempty"`
	// State, Tags: the image as DescribeImages answers now.
	State string            `json:"state"`
	Tags  map[string]string `json:"tags"`
	// SharedWith: the accounts the image's launch permissions name now.
	SharedWith []string `json:"shared_with,omitempty"`
	// Parameter and ParameterValue: the SSM parameter golden-lifecycle published, read back.
	Parameter      string `json:"parameter,omitempty"`
	ParameterValue string `json:"parameter_value,omitempty"`
	// PipelineImages are the images of the pipeline the region has after the prune, newest first.
	PipelineImages []string `json:"pipeline_images"`
}

// HardenSummary is golden-harden's report in short.
type HardenSummary struct {
	Profile  string        `json:"profile"`
	Counts   report.Counts `json:"counts"`
	Score    float64       `json:"score"`
	Passed   bool          `json:"passed"`
	Duration float64       `json:"duration_seconds"`
}

// ValidateSummary is golden-validate's report in short.
type ValidateSummary struct {
	Passed       bool     `json:"passed"`
	Probes       int      `json:"probes"`
	ProbesPassed int      `json:"probes_passed"`
	Targets      []string `json:"targets"`
	Duration     float64  `json:"duration_seconds"`
}

// PruneSummary is the prune report in short: what it deleted, and why each selected image stayed.
type PruneSummary struct {
	Deleted        []RegionalImage `json:"deleted"`
	Kept           []RegionalImage `json:"kept"`
	ReclaimedGiB   int64           `json:"reclaimed_gib"`
	MonthlySavings float64         `json:"monthly_savings_usd"`
}

// RegionalImage is an image the prune decided on, with the reasons of the decision.
type RegionalImage struct {
	Region  string   `json:"region"`
	AMI     string   `json:"ami"`
	Name    string   `json:"name"`
	Reasons []string `json:"reasons"`
	Codes   []string `json:"codes"`
}

// packerManifest is what packer's manifest post-processor writes.
type packerManifest struct {
	Builds []struct {
		Name       string            `json:"name"`
		ArtifactID string            `json:"artifact_id"`
		CustomData map[string]string `json:"custom_data"`
	} `json:"builds"`
}

// readJSON decodes the report folder's file name into v.
func readJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

// FromReports builds the summary from the report folder: packer's manifest, golden-harden's,
// golden-validate's and golden-lifecycle's JSON reports. AWS state is added by Observe.
func FromReports(dir string) (*Summary, error) {
	s := &Summary{ReportDir: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			s.Reports = append(s.Reports, e.Name())
		}
	}

	var pm packerManifest
	if err := readJSON(dir, packerManifestFile, &pm); err != nil {
		return nil, err
	}
	if len(pm.Builds) == 0 {
		return nil, fmt.Errorf("%s lists no build", packerManifestFile)
	}
	last := pm.Builds[len(pm.Builds)-1]
	_, s.Image, _ = strings.Cut(last.ArtifactID, ":")
	s.SourceAMI = last.CustomData["source_ami"]
	s.Replaces = last.CustomData["replaces"]

	b, err := os.ReadFile(filepath.Join(dir, hardenFile))
	if err != nil {
		return nil, err
	}
	h, err := report.ParseJSON(b)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", hardenFile, err)
	}
	s.Harden = HardenSummary{Profile: h.Property("profile"), Counts: h.After, Score: h.Score, Passed: h.Passed,
		Duration: float64(h.DurationMS) / 1000}

	if b, err = os.ReadFile(filepath.Join(dir, validateFile)); err != nil {
		return nil, err
	}
	v, err := report.ParseValidation(b)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", validateFile, err)
	}
	s.Validate = ValidateSummary{Passed: v.Passed, Duration: float64(v.DurationMS) / 1000}
	for _, t := range v.Targets {
		s.Validate.Targets = append(s.Validate.Targets, t.Name()+" ("+t.InstanceID+")")
		s.Validate.Probes += len(t.Probes)
		s.Validate.ProbesPassed += len(t.Probes) - len(t.Failed())
	}

	var lm lifecycle.Manifest
	if err := readJSON(dir, lifecycleFile, &lm); err != nil {
		return nil, err
	}
	shared := map[string]bool{}
	for _, img := range lm.Images {
		s.Regions = append(s.Regions, RegionImage{Region: img.Region, AMI: img.ImageID, CopiedFrom: img.CopiedFrom, Parameter: img.SSMParameter})
		if img.ImageID == s.Image {
			s.ImageName = img.Name
		}
		for _, a := range img.SharedWith {
			shared[a] = true
		}
	}
	for a := range shared {
		s.SharedWith = append(s.SharedWith, a)
	}
	sort.Strings(s.SharedWith)
	if lm.Prune != nil {
		s.Prune = pruneSummary(*lm.Prune)
	}
	return s, nil
}

func pruneSummary(r lifecycle.Report) PruneSummary {
	ps := PruneSummary{ReclaimedGiB: r.ReclaimedGiB, MonthlySavings: r.MonthlySavings}
	for _, p := range r.Plans {
		for _, d := range p.Images {
			ri := RegionalImage{Region: p.Region, AMI: d.ImageID, Name: d.Name}
			for _, why := range d.Reasons {
				ri.Reasons = append(ri.Reasons, why.Detail)
				ri.Codes = append(ri.Codes, string(why.Code))
			}
			if d.Action == lifecycle.Delete {
				ps.Deleted = append(ps.Deleted, ri)
			} else {
				ps.Kept = append(ps.Kept, ri)
			}
		}
	}
	return ps
}
