//go:generate packer-sdc mapstructure-to-hcl2 -type Service,Package,Port,File,Sysctl,Mount,User,Group,Process,Command,HTTP
//go:generate packer-sdc struct-markdown

// Package probe holds golden-validate's probe types. Every probe that looks at the instance
// gathers facts with a few lines of shell, rendered with all the others into one script that runs
// in one session (see Script and Run), and is judged by a pure Go function of those facts: the
// shell never decides, so every verdict has a table test. A probe that fails is asked again until
// its deadline, so services that are still starting after the boot get the time to converge.
//
// Each type lives in its own file and implements Probe; adding a type touches that file, the
// list in Types, and the goss mapping when goss has an equivalent.
package probe

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Probe is one check of a booted instance.
type Probe interface {
	// Type is the probe's block name in the template: "service", "file", ...
	Type() string
	// Subject says what the probe looks at: a unit, a path, a port, a command line.
	Subject() string
	// Validate returns one error per bad attribute, each naming it (without the block prefix,
	// which the caller adds).
	Validate() []error
	// Gather is the shell that prints the facts Judge reads, with the script's `fact` and
	// `fact_file` helpers. Every value from the template is passed through quote.
	Gather() string
	// Judge decides from the facts alone.
	Judge(f Facts) Verdict
	// Deadline is how long the probe may keep failing before it counts as failed; zero means the
	// run's default.
	Deadline() time.Duration
}

// Retry is the attribute every probe block has.
type Retry struct {
	// How long the probe may keep failing after the checks start before it counts as failed, e.g.
	// `2m`: a probe is asked again every `probe_interval` while it fails, so a service still
	// starting after the boot gets time to converge. Defaults to the post-processor's
	// `probe_timeout`.
	Timeout string `mapstructure:"timeout"`

	timeout time.Duration
}

// Deadline is the parsed timeout (valid after validateRetry).
func (r *Retry) Deadline() time.Duration { return r.timeout }

func (r *Retry) validateRetry() []error {
	if r.Timeout == "" {
		return nil
	}
	d, err := time.ParseDuration(r.Timeout)
	if err != nil || d < 0 {
		return []error{fmt.Errorf("timeout: %q is not a duration like 90s or 2m", r.Timeout)}
	}
	r.timeout = d
	return nil
}

// Facts are what a probe's shell printed, by name. A fact that was not printed is absent.
type Facts map[string]string

// Has reports whether the fact was printed.
func (f Facts) Has(name string) bool { _, ok := f[name]; return ok }

// Verdict is a probe's outcome on one attempt.
type Verdict struct {
	Pass bool
	// Message says what is wrong (on failure) or what was found (on success), in one line.
	Message string
	// Evidence is what was observed, for the report.
	Evidence string
}

func pass(msg string) Verdict { return Verdict{Pass: true, Message: msg} }

func failf(format string, args ...interface{}) Verdict {
	return Verdict{Message: fmt.Sprintf(format, args...)}
}

// ID names a probe in reports and messages: `service "fail2ban"`.
func ID(p Probe) string { return fmt.Sprintf("%s %q", p.Type(), p.Subject()) }

// quote returns s as one single-quoted shell word.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Validate checks every probe and returns the errors prefixed with the probe's ID; it also
// refuses two probes of the same type on the same subject, which would report twice under one
// name.
func Validate(probes []Probe) []error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range probes {
		id := ID(p)
		for _, err := range p.Validate() {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
		if seen[id] {
			errs = append(errs, fmt.Errorf("%s: appears twice", id))
		}
		seen[id] = true
	}
	return errs
}

// required is the error of a required attribute left empty.
func required(attr, value string) []error {
	if strings.TrimSpace(value) == "" {
		return []error{fmt.Errorf("%s: required", attr)}
	}
	return nil
}

// absolutePath checks a required attribute that holds an absolute path.
func absolutePath(attr, value string) []error {
	if value == "" {
		return required(attr, value)
	}
	if !path.IsAbs(value) {
		return []error{fmt.Errorf("%s: %q is not absolute", attr, value)}
	}
	return nil
}

// boolOr returns *b, or def when b is nil.
func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// yesNo renders a boolean expectation for messages.
func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
