package compliance

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Targets of the example's row, for the figures the scanners print: an auditor counts a setting
// the scanner cannot see as failed, so the figures without what a container cannot show are
// measured beside them, not bound.
const (
	LynisTarget    = 80
	OpenSCAPTarget = 90.0
)

// Machine is one scanned machine: an OS, the profile that hardened it ("pristine" when none).
type Machine struct {
	OS      string `json:"os"`
	Profile string `json:"profile"`
	// Scanned is when the scans ran (UTC), Load the lab host's load averages then, Commit the tree
	// whose golden-harden hardened the machine.
	Scanned  string    `json:"scanned"`
	Load     string    `json:"load"`
	Commit   string    `json:"commit"`
	Facts    Facts     `json:"facts"`
	Lynis    *Lynis    `json:"lynis,omitempty"`
	OpenSCAP *OpenSCAP `json:"openscap,omitempty"`
}

// Pristine is the Profile of a machine nobody hardened.
const Pristine = "pristine"

// Table is the results of `make compliance`: one machine per OS and profile, the latest scan of
// each.
type Table struct {
	SSG      string    `json:"ssg_debian"`
	Machines []Machine `json:"machines"`
}

// ReadTable reads the table an earlier run wrote to dir; none is an empty table.
func ReadTable(dir string) (Table, error) {
	var tb Table
	raw, err := os.ReadFile(filepath.Join(dir, "compliance.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return tb, nil
	}
	if err != nil {
		return tb, err
	}
	if err := json.Unmarshal(raw, &tb); err != nil {
		return tb, fmt.Errorf("%s/compliance.json: %w", dir, err)
	}
	return tb, nil
}

// Put sets the row of m's OS and profile, keeping the table in the order of OSes and Rows.
func (tb *Table) Put(m Machine) {
	tb.Machines = slices.DeleteFunc(tb.Machines, func(o Machine) bool { return o.OS == m.OS && o.Profile == m.Profile })
	tb.Machines = append(tb.Machines, m)
	rank := func(list []string, v string) int {
		if i := slices.Index(list, v); i >= 0 {
			return i
		}
		return len(list)
	}
	sort.SliceStable(tb.Machines, func(i, j int) bool {
		a, b := tb.Machines[i], tb.Machines[j]
		if a.OS != b.OS {
			return rank(OSes, a.OS) < rank(OSes, b.OS)
		}
		return rank(Rows, a.Profile) < rank(Rows, b.Profile)
	})
}

func (tb Table) pristine(os string) *Machine {
	for i := range tb.Machines {
		if tb.Machines[i].OS == os && tb.Machines[i].Profile == Pristine {
			return &tb.Machines[i]
		}
	}
	return nil
}

// Markdown renders the table (OS x profile x scanner, pristine vs hardened), then per machine
// when it was scanned, at what load, and what the adjusted figures exclude and where they lose.
// The targets bind the example's row; the other rows are measured.
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
			fmt.Fprintf(&b, "| %s | %s | %s hardening index | %s | **%d** | %d | %s |\n", m.OS, m.Profile, m.Lynis.Scanner, pr,
				m.Lynis.Index, m.Lynis.Adjusted, target(m, fmt.Sprintf(">= %d", LynisTarget), m.Lynis.Index >= LynisTarget))
		}
		if m.OpenSCAP != nil {
			pr := "-"
			if p != nil && p.OpenSCAP != nil {
				pr = fmt.Sprintf("%.1f (%.1f)", p.OpenSCAP.Score, p.OpenSCAP.Adjusted)
			}
			fmt.Fprintf(&b, "| %s | %s | %s, ssg-debian %s `standard` | %s | **%.1f** | %.1f | %s |\n", m.OS, m.Profile,
				m.OpenSCAP.Scanner, tb.SSG, pr, m.OpenSCAP.Score, m.OpenSCAP.Adjusted,
				target(m, fmt.Sprintf(">= %.0f", OpenSCAPTarget), m.OpenSCAP.Score >= OpenSCAPTarget))
		}
	}
	b.WriteString("\nPristine: the scanner's figure, and in brackets the figure without what a container cannot show.\n")
	for _, m := range tb.Machines {
		fmt.Fprintf(&b, "\n### %s, %s\n\nScanned %s, load %s, hardened by %s.\n\n", m.OS, m.Profile, m.Scanned, m.Load, m.Commit)
		if m.OpenSCAP != nil {
			fmt.Fprintf(&b, "OpenSCAP (%s): failing %s\n", m.OpenSCAP.Scanner, listOrNone(m.OpenSCAP.Failed))
			for _, c := range m.OpenSCAP.Costs {
				fmt.Fprintf(&b, "- `%s` (group `%s`) costs %.2f points of %.1f\n", c.Rule, c.Group, c.Points, m.OpenSCAP.Score)
			}
			for _, e := range m.OpenSCAP.Excluded {
				fmt.Fprintf(&b, "- excluded `%s`: %s\n", e.ID, e.Why)
			}
			b.WriteString("\n")
		}
		if m.Lynis != nil {
			fmt.Fprintf(&b, "%s: %d of %d points; without the exclusions %d\n", m.Lynis.Scanner, m.Lynis.Points[0], m.Lynis.Points[1], m.Lynis.Adjusted)
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

// target is the target column: met or missed on the example's row, "measured" on the others.
func target(m Machine, want string, ok bool) string {
	if m.Profile != ExampleProfile {
		return "measured"
	}
	return want + " " + met(ok)
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
