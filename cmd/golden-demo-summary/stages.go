package main

import (
	"bufio"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Stage is one step of the build as packer's output shows it, with its wall time.
type Stage struct {
	Name    string        `json:"name"`
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// stampedLine is a line of `packer build -timestamp-ui`: packer puts the time (RFC 3339, to the
// second) before every message.
var stampedLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)): (.*)$`)

// ansi matches the colour codes packer writes when its output is a terminal.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// stageStart names the stage a line of packer's output begins, or "" when it begins none. The
// lines are what packer and the components say (`==> BUILD: ...`) when they start: the shell
// provisioner's "Provisioning with shell script", golden-harden's run line, golden-ebs's first
// step after the provisioners, packer's "Running post-processor". Before the first of them the
// builder launches the instance and connects.
func stageStart(message string, inPostProcessors bool) string {
	said, ok := strings.CutPrefix(message, "==> ")
	if !ok {
		return ""
	}
	_, rest, ok := strings.Cut(said, ": ")
	if !ok {
		return ""
	}
	switch {
	case strings.HasPrefix(rest, "Provisioning with shell script: "):
		return "shell: " + filepath.Base(strings.TrimSpace(strings.TrimPrefix(rest, "Provisioning with shell script: ")))
	case strings.HasPrefix(rest, "Running post-processor: "):
		pp := strings.TrimPrefix(rest, "Running post-processor: ")
		// "NAME (type TYPE)" for named blocks.
		if _, typ, ok := strings.Cut(pp, "(type "); ok {
			pp = strings.TrimSuffix(typ, ")")
		}
		return strings.TrimSpace(pp)
	case inPostProcessors:
		// golden-validate's hardening audit prints golden-harden's lines too.
		return ""
	case strings.HasPrefix(rest, "golden-harden: ") && strings.Contains(rest, " mode, profile "):
		return "golden-harden"
	case rest == "Removing the temporary key from authorized_keys":
		return "golden-ebs: capture the AMI"
	}
	return ""
}

// ParseStages reads packer's timestamped output and returns its stages in order, each lasting
// until the next one starts; the last ends with the last line. Consecutive shell scripts form
// one stage.
func ParseStages(r io.Reader) ([]Stage, error) {
	var stages []Stage
	var last time.Time
	inPost := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		m := stampedLine.FindStringSubmatch(ansi.ReplaceAllString(sc.Text(), ""))
		if m == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339, m[1])
		if err != nil {
			continue
		}
		last = at
		if len(stages) == 0 {
			stages = append(stages, Stage{Name: "golden-ebs: launch and connect", Started: at})
		}
		name := stageStart(m[2], inPost)
		if name == "" {
			continue
		}
		inPost = inPost || strings.Contains(m[2], ": Running post-processor: ")
		cur := &stages[len(stages)-1]
		if strings.HasPrefix(name, "shell: ") && strings.HasPrefix(cur.Name, "shell: ") {
			cur.Name += ", " + strings.TrimPrefix(name, "shell: ")
			continue
		}
		if name == cur.Name {
			continue
		}
		stages = append(stages, Stage{Name: name, Started: at})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i := range stages {
		end := last
		if i+1 < len(stages) {
			end = stages[i+1].Started
		}
		stages[i].Elapsed = end.Sub(stages[i].Started)
	}
	return stages, nil
}
