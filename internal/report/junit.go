package report

import (
	"encoding/xml"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The JUnit XML shape most CI systems read (Jenkins, GitLab, GitHub test reporters): one
// testsuite, one testcase per item; failed items carry a <failure>, skipped and waived ones a
// <skipped>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

// xmlText drops what XML 1.0 cannot carry (control characters, invalid UTF-8): evidence comes
// from commands on the target and may hold anything.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == utf8.RuneError, r == 0xFFFE, r == 0xFFFF:
			return -1
		}
		return r
	}, s)
}

// JUnit returns the report as JUnit XML.
func (r *Report) JUnit() ([]byte, error) {
	suite := junitSuite{Name: r.Suite, Time: seconds(r.DurationMS)}
	if !r.Started.IsZero() {
		suite.Timestamp = r.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, p := range r.Properties {
		suite.Properties = append(suite.Properties, junitProperty{Name: p.Name, Value: xmlText(p.Value)})
	}
	suite.Properties = append(suite.Properties, junitProperty{Name: "score", Value: fmt.Sprintf("%.1f", r.Score)})
	for _, it := range r.Items {
		name := it.ID
		if it.Title != "" {
			name += ": " + it.Title
		}
		c := junitCase{Name: xmlText(name), ClassName: xmlText(r.Suite + "." + it.Group), Time: seconds(it.DurationMS)}
		if it.Group == "" {
			c.ClassName = xmlText(r.Suite)
		}
		switch it.Status {
		case StatusFailed:
			suite.Failures++
			c.Failure = &junitMessage{Message: xmlText(firstLine(it.Message, "not compliant")), Type: "failed",
				Body: xmlText(joinNonEmpty("\n\n", it.Message, it.Evidence))}
		case StatusSkipped:
			suite.Skipped++
			c.Skipped = &junitMessage{Message: xmlText(firstLine(it.Message, "not applicable"))}
		case StatusWaived:
			suite.Skipped++
			c.Skipped = &junitMessage{Message: xmlText(waiverText(it.Waiver)), Body: xmlText(it.Evidence)}
		default:
			c.SystemOut = xmlText(joinNonEmpty("\n", statusLine(it), it.Evidence))
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, c)
	}
	return encodeJUnit(r.Suite, r.DurationMS, []junitSuite{suite})
}

// encodeJUnit writes suites as one JUnit document whose totals add up the suites'.
func encodeJUnit(name string, durationMS int64, suites []junitSuite) ([]byte, error) {
	doc := junitSuites{Name: name, Time: seconds(durationMS), Suites: suites}
	for _, s := range suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures + s.Errors
		doc.Skipped += s.Skipped
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the report as JUnit XML: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

func statusLine(it Item) string {
	s := it.Status
	if it.NextBoot {
		s += " (in force after the next boot)"
	}
	if len(it.Backups) > 0 {
		s += "; changed " + strings.Join(it.Backups, ", ")
	}
	return s
}

func waiverText(w *Waiver) string {
	if w == nil {
		return "waived"
	}
	s := "waived: " + w.Justification
	if w.Expires != "" {
		s += " (until " + w.Expires + ")"
	}
	return s
}

func firstLine(s, fallback string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return fallback
	}
	return s
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}
