// Package report holds the result model shared by golden-harden and golden-validate, and writes
// it as JSON (for machines and for the image itself), JUnit XML (for CI test views) and Markdown
// (for people and pull requests).
package report

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Statuses an item can have. Validation probes use pass, failed and skipped.
const (
	StatusPass    = "pass"
	StatusFixed   = "fixed"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
	StatusWaived  = "waived"
)

// Ref ties an item to a benchmark entry.
type Ref struct {
	Benchmark string `json:"benchmark"`
	Version   string `json:"version,omitempty"`
	ID        string `json:"id"`
}

// Waiver explains why a failing item is accepted.
type Waiver struct {
	Justification string `json:"justification"`
	Expires       string `json:"expires,omitempty"` // YYYY-MM-DD; empty: does not expire
}

// Item is one check: a hardening control or a validation probe.
type Item struct {
	ID             string   `json:"id"`
	Title          string   `json:"title,omitempty"`
	Group          string   `json:"group,omitempty"` // module or probe type
	Refs           []Ref    `json:"refs,omitempty"`
	Level          int      `json:"level,omitempty"`
	Status         string   `json:"status"`
	Before         string   `json:"before,omitempty"` // status before the run changed anything
	NextBoot       bool     `json:"next_boot,omitempty"`
	Message        string   `json:"message,omitempty"`
	Evidence       string   `json:"evidence,omitempty"`
	BeforeEvidence string   `json:"before_evidence,omitempty"`
	DurationMS     int64    `json:"duration_ms"`
	Backups        []string `json:"backups,omitempty"` // files the item's fix changed (a copy was kept)
	RolledBack     bool     `json:"rolled_back,omitempty"`
	Waiver         *Waiver  `json:"waiver,omitempty"`
}

// Counts tallies items per status.
type Counts struct {
	Pass    int `json:"pass"`
	Fixed   int `json:"fixed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Waived  int `json:"waived"`
	Total   int `json:"total"`
}

// Add counts one status.
func (c *Counts) Add(status string) {
	switch status {
	case StatusPass:
		c.Pass++
	case StatusFixed:
		c.Fixed++
	case StatusFailed:
		c.Failed++
	case StatusSkipped:
		c.Skipped++
	case StatusWaived:
		c.Waived++
	default:
		return
	}
	c.Total++
}

// Score is the compliance percentage: pass + fixed over the applicable items, leaving out skipped
// (not applicable) and waived (accepted) ones. With no applicable item the score is 100.
func (c Counts) Score() float64 {
	applicable := c.Pass + c.Fixed + c.Failed
	if applicable == 0 {
		return 100
	}
	return float64(c.Pass+c.Fixed) * 100 / float64(applicable)
}

// Property is one name/value fact about the run (profile, mode, OS...), kept in order.
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Report is one run of a suite.
type Report struct {
	Suite      string     `json:"suite"` // "golden-harden", "golden-validate"
	Version    string     `json:"version,omitempty"`
	Started    time.Time  `json:"started"`
	DurationMS int64      `json:"duration_ms"`
	Properties []Property `json:"properties,omitempty"`
	// Before counts the statuses the items had before the run changed anything; nil when the
	// suite changes nothing (validation).
	Before       *Counts  `json:"before,omitempty"`
	After        Counts   `json:"after"`
	Score        float64  `json:"score"`
	Threshold    float64  `json:"threshold"` // the score below which the run fails
	Passed       bool     `json:"passed"`    // Score >= Threshold
	ChangedFiles []string `json:"changed_files,omitempty"`
	BackupDir    string   `json:"backup_dir,omitempty"`
	Warnings     []string `json:"warnings,omitempty"`
	// Timings are durations of the run's phases (per module for golden-harden), in run order.
	Timings []Timing `json:"timings,omitempty"`
	Items   []Item   `json:"items"`
}

// Timing is how long one phase of a run took.
type Timing struct {
	Name       string `json:"name"`
	DurationMS int64  `json:"duration_ms"`
	// CPUMS is the CPU time the phase took on the machine it ran on (golden-harden: its script and
	// the processes it waited for), MachineCPUMS the whole machine's, Processes the processes the
	// machine started; absent when not measured.
	CPUMS        int64 `json:"cpu_ms,omitempty"`
	MachineCPUMS int64 `json:"machine_cpu_ms,omitempty"`
	Processes    int64 `json:"processes,omitempty"`
}

// Summarize fills the counts, the score and the verdict from the items and the threshold.
func (r *Report) Summarize() {
	r.After = Counts{}
	var before Counts
	hasBefore := false
	for _, it := range r.Items {
		r.After.Add(it.Status)
		if it.Before != "" {
			hasBefore = true
			before.Add(it.Before)
		}
	}
	r.Before = nil
	if hasBefore {
		r.Before = &before
	}
	r.Score = r.After.Score()
	r.Passed = r.Score >= r.Threshold
}

// Property returns the value of the named property, or "".
func (r *Report) Property(name string) string {
	for _, p := range r.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Format names an output format.
type Format string

const (
	FormatJSON     Format = "json"
	FormatJUnit    Format = "junit"
	FormatMarkdown Format = "markdown"
)

// Encode returns the report in the format.
func (r *Report) Encode(f Format) ([]byte, error) {
	switch f {
	case FormatJSON:
		return r.JSON()
	case FormatJUnit:
		return r.JUnit()
	case FormatMarkdown:
		return []byte(r.Markdown()), nil
	}
	return nil, fmt.Errorf("unknown report format %q", f)
}

// WriteFile writes the report in the format to path, creating parent directories.
func (r *Report) WriteFile(path string, f Format) error {
	b, err := r.Encode(f)
	if err != nil {
		return err
	}
	return writeFile(path, f, b)
}

// writeFile writes an encoded report, creating parent directories.
func writeFile(path string, f Format, b []byte) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("writing the %s report: %w", f, err)
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing the %s report: %w", f, err)
	}
	return nil
}
