package report

import (
	"fmt"
	"strings"
)

// Markdown returns a summary for people: score and verdict, counts before and after, what failed
// or was waived and why, the files changed, then every item in a table.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s report\n\n", r.Suite)
	var facts []string
	for _, p := range r.Properties {
		facts = append(facts, fmt.Sprintf("%s: %s", p.Name, mdCode(p.Value)))
	}
	if !r.Started.IsZero() {
		facts = append(facts, "started: "+r.Started.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	facts = append(facts, fmt.Sprintf("duration: %.1f s", float64(r.DurationMS)/1000))
	b.WriteString(strings.Join(facts, " · ") + "\n\n")

	verdict := "passed"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "**Score: %.1f %%** (threshold %.0f %%): %s\n\n", r.Score, r.Threshold, verdict)

	b.WriteString("| | pass | fixed | failed | skipped | waived | total |\n|---|---:|---:|---:|---:|---:|---:|\n")
	if r.Before != nil {
		writeCounts(&b, "before", *r.Before)
	}
	writeCounts(&b, "after", r.After)
	b.WriteString("\n")

	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "> warning: %s\n", mdLine(w))
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\n")
	}

	writeList(&b, r.Items, StatusFailed, "Failed", func(it Item) string { return firstLine(it.Message, "not compliant") })
	writeList(&b, r.Items, StatusWaived, "Waived", func(it Item) string { return waiverText(it.Waiver) })

	if len(r.ChangedFiles) > 0 {
		fmt.Fprintf(&b, "## Changed files (%d)\n\n", len(r.ChangedFiles))
		if r.BackupDir != "" {
			fmt.Fprintf(&b, "Copies of the originals are in %s on the image.\n\n", mdCode(r.BackupDir))
		}
		for _, f := range r.ChangedFiles {
			fmt.Fprintf(&b, "- %s\n", mdCode(f))
		}
		b.WriteString("\n")
	}

	b.WriteString("## All items\n\n| id | title | refs | level | before | after | ms |\n|---|---|---|---:|---|---|---:|\n")
	for _, it := range r.Items {
		after := it.Status
		if it.NextBoot {
			after += " (next boot)"
		}
		level := ""
		if it.Level > 0 {
			level = fmt.Sprint(it.Level)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d |\n", mdCode(it.ID), mdCell(it.Title), mdCell(refsText(it.Refs)),
			level, it.Before, after, it.DurationMS)
	}
	return b.String()
}

func writeCounts(b *strings.Builder, label string, c Counts) {
	fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %d | %d |\n", label, c.Pass, c.Fixed, c.Failed, c.Skipped, c.Waived, c.Total)
}

func writeList(b *strings.Builder, items []Item, status, heading string, why func(Item) string) {
	var lines []string
	for _, it := range items {
		if it.Status == status {
			label := mdCode(it.ID)
			if it.Title != "" {
				label += " " + mdLine(it.Title)
			}
			lines = append(lines, fmt.Sprintf("- %s: %s", label, mdLine(why(it))))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s (%d)\n\n%s\n\n", heading, len(lines), strings.Join(lines, "\n"))
}

func refsText(refs []Ref) string {
	parts := make([]string, 0, len(refs))
	for _, r := range refs {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s %s %s", r.Benchmark, r.Version, r.ID)))
	}
	return strings.Join(parts, "; ")
}

// mdLine keeps text on one line.
func mdLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// mdCell makes text safe inside a table cell.
func mdCell(s string) string {
	return strings.ReplaceAll(mdLine(s), "|", `\|`)
}

func mdCode(s string) string {
	s = mdLine(s)
	if s == "" {
		return ""
	}
	if strings.Contains(s, "`") {
		return "`` " + strings.ReplaceAll(s, "|", `\|`) + " ``"
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}
