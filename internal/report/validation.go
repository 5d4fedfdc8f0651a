package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Validation is one golden-validate run: the image, and per target (region x instance type) the
// instance it booted and every probe's result. It shares the writers' shapes with Report (the
// JUnit document, the Markdown helpers) and none of a hardening run's fields: no score,
// threshold, before counts or changed files.
type Validation struct {
	Suite      string    `json:"suite"` // "golden-validate"
	Version    string    `json:"version,omitempty"`
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
	// Images are the artifact's images, "region:ami-id".
	Images []string `json:"images"`
	// Passed is true when every target ran and every probe passed.
	Passed  bool               `json:"passed"`
	Targets []ValidationTarget `json:"targets"`
}

// ValidationTarget is the validation on one instance.
type ValidationTarget struct {
	Region       string `json:"region"`
	InstanceType string `json:"instance_type"`
	ImageID      string `json:"image_id"`
	InstanceID   string `json:"instance_id,omitempty"`
	OS           string `json:"os,omitempty"`
	Passed       bool   `json:"passed"`
	// Error says why the validation could not finish on the target (no SSH, cloud-init failed,
	// an AWS call refused).
	Error      string  `json:"error,omitempty"`
	Probes     []Probe `json:"probes"`
	DurationMS int64   `json:"duration_ms"`
	// ConsoleOutput is the instance's console output, kept when the target failed.
	ConsoleOutput string `json:"console_output,omitempty"`
	// Kept says how to reach the instance keep_on_failure kept.
	Kept string `json:"kept,omitempty"`
}

// Name is "region/instance-type".
func (t ValidationTarget) Name() string { return t.Region + "/" + t.InstanceType }

// Probe is one probe's final result.
type Probe struct {
	Type    string `json:"type"`
	Subject string `json:"subject"`
	// Status is StatusPass or StatusFailed.
	Status     string `json:"status"`
	Message    string `json:"message,omitempty"`
	Evidence   string `json:"evidence,omitempty"`
	Attempts   int    `json:"attempts"`
	DurationMS int64  `json:"duration_ms"`
}

// ID names the probe: `service "fail2ban"`.
func (p Probe) ID() string { return fmt.Sprintf("%s %q", p.Type, p.Subject) }

// Failed lists the target's failed probes.
func (t ValidationTarget) Failed() []Probe {
	var out []Probe
	for _, p := range t.Probes {
		if p.Status != StatusPass {
			out = append(out, p)
		}
	}
	return out
}

// Encode returns the validation in the format.
func (v *Validation) Encode(f Format) ([]byte, error) {
	switch f {
	case FormatJSON:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encoding the report as JSON: %w", err)
		}
		return append(b, '\n'), nil
	case FormatJUnit:
		return v.JUnit()
	case FormatMarkdown:
		return []byte(v.Markdown()), nil
	}
	return nil, fmt.Errorf("unknown report format %q", f)
}

// WriteFile writes the validation in the format to path, creating parent directories.
func (v *Validation) WriteFile(path string, f Format) error {
	b, err := v.Encode(f)
	if err != nil {
		return err
	}
	return writeFile(path, f, b)
}

// ParseValidation reads a validation written as JSON.
func ParseValidation(b []byte) (*Validation, error) {
	var v Validation
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("reading a JSON validation report: %w", err)
	}
	return &v, nil
}

// JUnit returns one test suite per target, one test case per probe. A target that could not
// finish has an <error> test case saying why, with the console output.
func (v *Validation) JUnit() ([]byte, error) {
	var suites []junitSuite
	for _, t := range v.Targets {
		s := junitSuite{Name: v.Suite + " " + t.Name(), Time: seconds(t.DurationMS)}
		if !v.Started.IsZero() {
			s.Timestamp = v.Started.UTC().Format("2006-01-02T15:04:05")
		}
		for _, p := range [][2]string{{"region", t.Region}, {"instance_type", t.InstanceType}, {"image_id", t.ImageID},
			{"instance_id", t.InstanceID}, {"os", t.OS}} {
			if p[1] != "" {
				s.Properties = append(s.Properties, junitProperty{Name: p[0], Value: xmlText(p[1])})
			}
		}
		class := xmlText(v.Suite + "." + strings.ReplaceAll(t.Name(), ".", "_"))
		for _, p := range t.Probes {
			c := junitCase{Name: xmlText(p.ID()), ClassName: class + "." + xmlText(p.Type), Time: seconds(p.DurationMS)}
			if p.Status == StatusPass {
				c.SystemOut = xmlText(joinNonEmpty("\n", p.Message, p.Evidence, fmt.Sprintf("attempts: %d", p.Attempts)))
			} else {
				s.Failures++
				c.Failure = &junitMessage{Message: xmlText(firstLine(p.Message, "failed")), Type: "failed",
					Body: xmlText(joinNonEmpty("\n\n", p.Message, p.Evidence, fmt.Sprintf("attempts: %d", p.Attempts), consoleSection(t.ConsoleOutput)))}
			}
			s.Tests++
			s.Cases = append(s.Cases, c)
		}
		if t.Error != "" {
			s.Errors++
			s.Tests++
			s.Cases = append(s.Cases, junitCase{Name: "validation", ClassName: class, Time: seconds(t.DurationMS),
				Error: &junitMessage{Message: xmlText(firstLine(t.Error, "error")), Type: "error",
					Body: xmlText(joinNonEmpty("\n\n", t.Error, consoleSection(t.ConsoleOutput)))}})
		}
		suites = append(suites, s)
	}
	return encodeJUnit(v.Suite, v.DurationMS, suites)
}

func consoleSection(console string) string {
	if strings.TrimSpace(console) == "" {
		return ""
	}
	return "console output:\n" + console
}

// consoleTail is how many lines of console output the Markdown summary shows.
const consoleTail = 30

// Markdown returns the summary for people: the verdict, a table of targets, every failed probe
// with why, and the end of the console output of a failed target.
func (v *Validation) Markdown() string {
	var b strings.Builder
	verdict := "passed"
	if !v.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "# %s: %s\n\n", v.Suite, verdict)
	fmt.Fprintf(&b, "images: %s", mdCode(strings.Join(v.Images, ", ")))
	if !v.Started.IsZero() {
		fmt.Fprintf(&b, " · started: %s", v.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	fmt.Fprintf(&b, " · duration: %.1f s\n\n", float64(v.DurationMS)/1000)

	b.WriteString("| target | image | instance | os | passed | failed | result |\n|---|---|---|---|---:|---:|---|\n")
	for _, t := range v.Targets {
		failed := len(t.Failed())
		result := "passed"
		switch {
		case t.Error != "":
			result = "error: " + firstLine(t.Error, "error")
		case failed > 0:
			result = "FAILED"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %s |\n", mdCode(t.Name()), mdCode(t.ImageID), mdCode(t.InstanceID),
			mdCell(t.OS), len(t.Probes)-failed, failed, mdCell(result))
	}
	b.WriteString("\n")
	for _, t := range v.Targets {
		failed := t.Failed()
		if len(failed) > 0 {
			fmt.Fprintf(&b, "## Failed on %s (%d)\n\n", t.Name(), len(failed))
			for _, p := range failed {
				fmt.Fprintf(&b, "- %s: %s\n", mdCode(p.ID()), mdLine(firstLine(p.Message, "failed")))
			}
			b.WriteString("\n")
		}
		if t.Kept != "" {
			fmt.Fprintf(&b, "Kept for debugging: %s\n\n", mdLine(t.Kept))
		}
		if !t.Passed && strings.TrimSpace(t.ConsoleOutput) != "" {
			lines := strings.Split(strings.TrimRight(t.ConsoleOutput, "\n"), "\n")
			if len(lines) > consoleTail {
				lines = lines[len(lines)-consoleTail:]
			}
			fmt.Fprintf(&b, "Console output of %s (last %d lines):\n\n```\n%s\n```\n\n", t.InstanceID, len(lines),
				strings.ReplaceAll(xmlText(strings.Join(lines, "\n")), "```", "'''"))
		}
	}
	return b.String()
}
