package lifecycle

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Report gathers the prune plans of every region a run looked at.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	// DryRun is true when the plans were only printed, not carried out.
	DryRun         bool        `json:"dry_run"`
	Plans          []PrunePlan `json:"plans"`
	ImagesDeleted  int         `json:"images_deleted"`
	ReclaimedGiB   int64       `json:"reclaimed_gib"`
	MonthlySavings float64     `json:"monthly_savings_usd"`
}

// NewReport sums up plans.
func NewReport(plans []PrunePlan, dryRun bool, now time.Time) Report {
	r := Report{GeneratedAt: now, DryRun: dryRun, Plans: plans}
	for _, p := range plans {
		r.ImagesDeleted += len(p.ImagesToDelete())
		r.ReclaimedGiB += p.ReclaimedGiB
		r.MonthlySavings += p.MonthlySavings
	}
	r.MonthlySavings = math.Round(r.MonthlySavings*100) / 100
	return r
}

// JSON renders the report for machines (CI, dashboards).
func (r Report) JSON() ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// WriteTable prints every plan as a table, then the totals.
func (r Report) WriteTable(w io.Writer) error {
	for _, p := range r.Plans {
		if err := p.WriteTable(w); err != nil {
			return err
		}
	}
	verb := "deletes"
	if r.DryRun {
		verb = "would delete (dry run)"
	}
	_, err := fmt.Fprintf(w, "Prune %s %d image(s), reclaiming %d GiB of snapshots, about $%.2f per month.\n",
		verb, r.ImagesDeleted, r.ReclaimedGiB, r.MonthlySavings)
	return err
}

// WriteTable prints one region's plan: a row per selected image, newest first, then the snapshots.
func (p PrunePlan) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "Prune plan for %s (%s):\n", p.Region, p.Policy); err != nil {
		return err
	}
	if len(p.Images) == 0 {
		_, err := fmt.Fprintln(w, "  no image matches the selector")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACTION\tAMI\tNAME\tCREATED\tREASON")
	for _, d := range p.Images {
		reasons := make([]string, len(d.Reasons))
		for i, r := range d.Reasons {
			reasons[i] = r.Detail
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", d.Action, d.ImageID, d.Name,
			d.CreationDate.UTC().Format("2006-01-02 15:04"), strings.Join(reasons, "; "))
	}
	for _, s := range p.Snapshots {
		fmt.Fprintf(tw, "  %s\t%s\t%d GiB\t\t%s (backs %s)\n", s.Action, s.SnapshotID, s.SizeGiB, s.Reason,
			strings.Join(s.ImageIDs, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "  %d image(s) and %d snapshot(s) to delete in %s, %d GiB, about $%.2f per month.\n",
		len(p.ImagesToDelete()), len(p.SnapshotsToDelete()), p.Region, p.ReclaimedGiB, p.MonthlySavings)
	return err
}
