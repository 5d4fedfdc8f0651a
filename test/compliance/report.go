package compliance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Targets the hardened machines must reach (without what a container cannot show).
const (
	LynisTarget    = 80
	OpenSCAPTarget = 90.0
)

// Machine is one scanned machine: an OS, the profile that hardened it ("pristine" when none).
type Machine struct {
	OS       string    `json:"os"`
	Profile  string    `json:"profile"`
	Facts    Facts     `json:"facts"`
	Lynis    *Lynis    `json:"lynis,omitempty"`
	OpenSCAP *OpenSCAP `json:"openscap,omitempty"`
}

// Pristine is the Profile of a machine nobody hardened.
const Pristine = "pristine"

// Table is the results of one `make compliance`.
type Table struct {
	SSG      string    `json:"ssg_debian"`
	Machines []Machine `json:"machines"`
}

func (tb Table) pristine(os string) *Machine {
	for i := range tb.Machines {
		if tb.Machines[i].OS == os && tb.Machines[i].Profile == Pristine {
			return &tb.Machines[i]
		}
	}
	return nil
}

// Markdown renders the table (OS x profile x scanner, pristine vs hardened), then per hardened
// machine what the adjusted figures exclude and where they still lose.
func (tb Table) Markdown() string {
	var b strings.Builder
	b.WriteString("| OS | profile | scanner | pristine | hardened | hardened, without what a container cannot show | target |\n")
	b.WriteString("|---|---|---|--:|--:|--:|---|\n")
	for _, m := range tb.Machines {
		if m.Profile == Pristine {
			continue
		}
		p := tb.pristine(m.OS)
		if m.Lynis != nil {
			pr := "-"
			if p != nil && p.Lynis != nil {
				pr = fmt.Sprintf("%d (%d)", p.Lynis.Index, p.Lynis.Adjusted)
			}
			fmt.Fprintf(&b, "| %s | %s | Lynis hardening index | %s | %d | **%d** | >= %d %s |\n", m.OS, m.Profile, pr,
				m.Lynis.Index, m.Lynis.Adjusted, LynisTarget, met(float64(m.Lynis.Adjusted) >= LynisTarget))
		}
		if m.OpenSCAP != nil {
			pr := "-"
			if p != nil && p.OpenSCAP != nil {
				pr = fmt.Sprintf("%.1f (%.1f)", p.OpenSCAP.Score, p.OpenSCAP.Adjusted)
			}
			fmt.Fprintf(&b, "| %s | %s | OpenSCAP ssg-debian %s `standard` | %s | %.1f | **%.1f** | >= %.0f %s |\n", m.OS, m.Profile,
				tb.SSG, pr, m.OpenSCAP.Score, m.OpenSCAP.Adjusted, OpenSCAPTarget, met(m.OpenSCAP.Adjusted >= OpenSCAPTarget))
		}
	}
	b.WriteString("\nPristine: the scanner's figure, and in brackets the figure without what a container cannot show.\n")
	for _, m := range tb.Machines {
		fmt.Fprintf(&b, "\n### %s, %s\n\n", m.OS, m.Profile)
		if m.OpenSCAP != nil {
			fmt.Fprintf(&b, "OpenSCAP (%s): failing %s\n", m.OpenSCAP.Scanner, listOrNone(m.OpenSCAP.Failed))
			for _, e := range m.OpenSCAP.Excluded {
				fmt.Fprintf(&b, "- excluded `%s`: %s\n", e.ID, e.Why)
			}
			b.WriteString("\n")
		}
		if m.Lynis != nil {
			fmt.Fprintf(&b, "Lynis: %d of %d points; without the exclusions %d\n", m.Lynis.Points[0], m.Lynis.Points[1], m.Lynis.Adjusted)
			for _, e := range m.Lynis.Excluded {
				fmt.Fprintf(&b, "- excluded `%s`: %s\n", e.ID, e.Why)
			}
			for _, l := range m.Lynis.Lost {
				fmt.Fprintf(&b, "- lost %d of %d: `%s` %s\n", l.Points, l.Of, l.Test, l.Why)
			}
		}
	}
	return b.String()
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return "`" + strings.Join(ids, "`, `") + "`"
}

// Write stores the table as compliance.json and compliance.md in dir.
func (tb Table) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(tb, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "compliance.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "compliance.md"), []byte(tb.Markdown()), 0o644)
}
