package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Report {
	r := &Report{
		Suite:      "golden-harden",
		Version:    "0.1.0",
		Started:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		DurationMS: 2345,
		Properties: []Property{{"profile", "cis-level1-server"}, {"mode", "enforce"}},
		Threshold:  90,
		Items: []Item{
			{ID: "ssh.permit-root-login", Title: "Ensure root login is disabled", Group: "ssh", Level: 1,
				Refs:   []Ref{{"CIS Debian Linux 12", "v1.1.0", "5.1.20"}},
				Status: StatusFixed, Before: StatusFailed, Evidence: "permitrootlogin no", DurationMS: 12,
				Backups: []string{"/etc/ssh/sshd_config.d/50-golden.conf"}},
			{ID: "sysctl.aslr", Group: "sysctl", Status: StatusPass, Before: StatusPass, NextBoot: true},
			{ID: "modules.cramfs", Group: "modules", Status: StatusSkipped, Before: StatusSkipped, Message: "no such module\nmore"},
			{ID: "pam.pwquality", Group: "pam", Status: StatusFailed, Before: StatusFailed,
				Message: "still not compliant | after <fix>\nline2", Evidence: "bad \x01 byte & \"quote\""},
			{ID: "auditd.immutable", Group: "auditd", Status: StatusWaived, Before: StatusFailed,
				Waiver: &Waiver{Justification: "needs live rule changes", Expires: "2027-01-31"}},
		},
		ChangedFiles: []string{"/etc/ssh/sshd_config.d/50-golden.conf"},
		BackupDir:    "/var/backups/golden-harden/r1",
	}
	r.Summarize()
	return r
}

func TestSummarize(t *testing.T) {
	r := sample()
	if want := (Counts{Pass: 1, Fixed: 1, Failed: 1, Skipped: 1, Waived: 1, Total: 5}); r.After != want {
		t.Errorf("after %+v, want %+v", r.After, want)
	}
	if want := (Counts{Pass: 1, Failed: 3, Skipped: 1, Total: 5}); r.Before == nil || *r.Before != want {
		t.Errorf("before %+v, want %+v", r.Before, want)
	}
	// 2 of 3 applicable (skipped and waived left out).
	if r.Score < 66.6 || r.Score > 66.7 || r.Passed {
		t.Errorf("score %v passed %v", r.Score, r.Passed)
	}
	empty := &Report{Threshold: 100}
	empty.Summarize()
	if empty.Score != 100 || !empty.Passed || empty.Before != nil {
		t.Errorf("empty report: %+v", empty)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := sample()
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip differs:\n%+v\n%+v", back, r)
	}
	if !strings.Contains(string(b), `"status": "fixed"`) || !strings.Contains(string(b), `"benchmark": "CIS Debian Linux 12"`) {
		t.Errorf("JSON:\n%s", b)
	}
}

func TestJUnit(t *testing.T) {
	b, err := sample().JUnit()
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, b)
	}
	s := doc.Suites[0]
	if doc.Tests != 5 || s.Tests != 5 || s.Failures != 1 || s.Skipped != 2 || s.Time != "2.345" {
		t.Errorf("counts: %+v", s)
	}
	byName := map[string]junitCase{}
	for _, c := range s.Cases {
		byName[strings.SplitN(c.Name, ":", 2)[0]] = c
	}
	if c := byName["pam.pwquality"]; c.Failure == nil || c.Failure.Message != "still not compliant | after <fix>" ||
		!strings.Contains(c.Failure.Body, `bad  byte & "quote"`) || c.ClassName != "golden-harden.pam" {
		t.Errorf("failed case: %+v", c)
	}
	if c := byName["auditd.immutable"]; c.Skipped == nil || c.Skipped.Message != "waived: needs live rule changes (until 2027-01-31)" {
		t.Errorf("waived case: %+v", c)
	}
	if c := byName["modules.cramfs"]; c.Skipped == nil || c.Skipped.Message != "no such module" {
		t.Errorf("skipped case: %+v", c)
	}
	if c := byName["ssh.permit-root-login"]; c.Failure != nil || c.Skipped != nil ||
		!strings.Contains(c.SystemOut, "fixed; changed /etc/ssh/sshd_config.d/50-golden.conf") || c.Time != "0.012" {
		t.Errorf("fixed case: %+v", c)
	}
	if !strings.Contains(string(b), `<property name="profile" value="cis-level1-server"></property>`) {
		t.Errorf("properties missing:\n%s", b)
	}
}

func TestMarkdown(t *testing.T) {
	md := sample().Markdown()
	for _, want := range []string{
		"# golden-harden report",
		"profile: `cis-level1-server` · mode: `enforce`",
		"**Score: 66.7 %** (threshold 90 %): FAILED",
		"| before | 1 | 0 | 3 | 1 | 0 | 5 |",
		"| after | 1 | 1 | 1 | 1 | 1 | 5 |",
		"## Failed (1)\n\n- `pam.pwquality`: still not compliant | after <fix>",
		"## Waived (1)",
		"waived: needs live rule changes (until 2027-01-31)",
		"## Changed files (1)",
		"`/var/backups/golden-harden/r1`",
		"| `ssh.permit-root-login` | Ensure root login is disabled | CIS Debian Linux 12 v1.1.0 5.1.20 | 1 | failed | fixed | 12 |",
		"| `sysctl.aslr` |  |  |  | pass | pass (next boot) | 0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestWriteFileCreatesDirectories(t *testing.T) {
	dir := t.TempDir()
	r := sample()
	for _, f := range []Format{FormatJSON, FormatJUnit, FormatMarkdown} {
		path := filepath.Join(dir, "nested", "out."+string(f))
		if err := r.WriteFile(path, f); err != nil {
			t.Fatal(err)
		}
		if info, err := os.Stat(path); err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", path, err)
		}
	}
	if err := r.WriteFile(filepath.Join(dir, "x"), "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}
