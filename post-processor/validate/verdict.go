package validate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/version"
)

// verdict is the decision on the image from every target's outcome. It is a pure function of
// the outcomes.
type verdict struct {
	outcomes []*outcome
	at       time.Time
}

func newVerdict(outcomes []*outcome, at time.Time) verdict {
	return verdict{outcomes: outcomes, at: at}
}

// Passed: every target ran to the end and every probe passed.
func (v verdict) Passed() bool {
	for _, o := range v.outcomes {
		if o.Err != nil || len(o.Failed()) > 0 {
			return false
		}
	}
	return len(v.outcomes) > 0
}

// Failed: the image is at fault on some target: a probe failed, or the booted instance never
// became reachable or ready.
func (v verdict) Failed() bool {
	for _, o := range v.outcomes {
		if len(o.Failed()) > 0 || o.ImageFault {
			return true
		}
	}
	return false
}

// Judged: the run says something about the image, passed or failed. A run that broke before
// any instance booted (AWS refused a call) judges nothing.
func (v verdict) Judged() bool { return v.Passed() || v.Failed() }

// ErrorSummary says, per target, which probes failed and why, or why the target did not finish.
func (v verdict) ErrorSummary() string {
	var lines []string
	for _, o := range v.outcomes {
		failed := o.Failed()
		switch {
		case len(failed) > 0:
			var names []string
			for _, c := range failed {
				names = append(names, fmt.Sprintf("%s (%s)", c.ID(), firstLine(c.Message)))
			}
			lines = append(lines, fmt.Sprintf("%s: %d of %d probes failed: %s", o.Target, len(failed), len(o.Checks), strings.Join(names, "; ")))
		case o.Err != nil:
			lines = append(lines, fmt.Sprintf("%s: %v", o.Target, o.Err))
		}
	}
	if len(lines) == 1 {
		return "validation failed on " + lines[0]
	}
	return "validation failed:\n  " + strings.Join(lines, "\n  ")
}

// Report is the run as the shared validation report.
func (v verdict) Report(images []amiref.Ref) *report.Validation {
	r := &report.Validation{Suite: component, Version: version.PluginVersion.FormattedVersion(), Passed: v.Passed()}
	var first time.Time
	for _, o := range v.outcomes {
		if first.IsZero() || o.Started.Before(first) {
			first = o.Started
		}
	}
	if !first.IsZero() {
		r.Started = first.UTC()
		r.DurationMS = v.at.Sub(first).Milliseconds()
	}
	for _, im := range images {
		r.Images = append(r.Images, im.String())
	}
	for _, o := range v.outcomes {
		t := report.ValidationTarget{Region: o.Target.Region, InstanceType: o.Target.InstanceType, ImageID: o.Target.ImageID,
			InstanceID: o.InstanceID, OS: o.OS, DurationMS: o.Duration.Milliseconds(), Probes: []report.Probe{}}
		for _, c := range o.Checks {
			status := report.StatusPass
			if !c.Pass {
				status = report.StatusFailed
			}
			t.Probes = append(t.Probes, report.Probe{Type: c.Type, Subject: c.Subject, Status: status, Message: c.Message,
				Evidence: c.Evidence, Attempts: c.Attempts, DurationMS: c.Duration.Milliseconds()})
		}
		if o.Err != nil {
			t.Error = o.Err.Error()
		}
		t.Passed = o.Err == nil && len(o.Failed()) == 0
		if !t.Passed {
			t.ConsoleOutput = o.Console
		}
		if k := o.Kept; k != nil {
			t.Kept = fmt.Sprintf("instance %s at %s, user %s, key %s; expires %s", k.InstanceID, k.Address, k.User, k.KeyPath, k.ExpiresAt.Format(time.RFC3339))
		}
		r.Targets = append(r.Targets, t)
	}
	return r
}

// writeReports writes the report files the options name.
func (p *PostProcessor) writeReports(r *report.Validation) error {
	c := &p.config
	var errs []error
	for _, f := range []struct {
		path   string
		format report.Format
	}{{c.JUnitReport, report.FormatJUnit}, {c.JSONReport, report.FormatJSON}, {c.MarkdownReport, report.FormatMarkdown}} {
		if f.path == "" {
			continue
		}
		if err := r.WriteFile(f.path, f.format); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.path, err))
		}
	}
	return errors.Join(errs...)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
