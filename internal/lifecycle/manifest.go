package lifecycle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Manifest is the machine-readable record of a lifecycle run, written for Terraform and CI: the
// image in every region, its snapshots, tags, creation and deprecation times and SSM parameter, and
// the prune report.
type Manifest struct {
	GeneratedAt   time.Time `json:"generated_at"`
	BuildName     string    `json:"build_name,omitempty"`
	BuildID       string    `json:"build_id,omitempty"`
	PackerVersion string    `json:"packer_version,omitempty"`
	// Source is the image the build produced.
	Source ImageRef `json:"source"`
	// AMIs maps each region to its image id: the shape a Terraform map variable takes.
	AMIs   map[string]string `json:"amis"`
	Images []RegionImage     `json:"images"`
	DryRun bool              `json:"dry_run"`
	Prune  *Report           `json:"prune,omitempty"`
}

// NewManifest records a run's result.
func NewManifest(job Job, result Result, now time.Time) Manifest {
	m := Manifest{
		GeneratedAt: now.UTC(),
		Source:      job.Source,
		AMIs:        map[string]string{},
		Images:      result.Images,
		DryRun:      job.DryRun,
		Prune:       result.Prune,
	}
	for _, img := range result.Images {
		m.AMIs[img.Region] = img.ImageID
	}
	return m
}

// WriteJSON writes v as indented JSON to path, creating its folder. The file is replaced in one
// rename, so a reader never sees half a file.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
