package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// Write prints the summary for people: where the reports are, the image per region, what each
// component did, the wall time of each stage, and what is left running.
func (s *Summary) Write(w io.Writer) error {
	fmt.Fprintf(w, "Reports in %s: %s\n\n", s.ReportDir, strings.Join(s.Reports, " "))

	fmt.Fprintf(w, "%s (%s), built from %s", s.ImageName, s.Image, s.SourceAMI)
	if s.Replaces != "" {
		fmt.Fprintf(w, ", replacing %s", s.Replaces)
	}
	fmt.Fprintln(w)
	parameter := "SSM PARAMETER"
	for _, r := range s.Regions {
		if r.Parameter != "" {
			parameter = r.Parameter
			break
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  REGION\tAMI\tSTATE\tVALIDATION\t%s\tSHARED WITH\tPIPELINE IMAGES\n", parameter)
	for _, r := range s.Regions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Region, r.AMI, r.State, orDash(r.Tags[goldentag.Validation]),
			orDash(r.ParameterValue), orDash(strings.Join(r.SharedWith, ",")), len(r.PipelineImages))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)

	h := s.Harden
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  golden-harden\t%s: %d pass, %d fixed, %d failed, %d skipped, %d waived; score %.1f%%\n",
		h.Profile, h.Counts.Pass, h.Counts.Fixed, h.Counts.Failed, h.Counts.Skipped, h.Counts.Waived, h.Score)
	fmt.Fprintf(tw, "  golden-validate\t%d of %d probes passed on %s\n", s.Validate.ProbesPassed, s.Validate.Probes, strings.Join(s.Validate.Targets, ", "))
	p := s.Prune
	fmt.Fprintf(tw, "  golden-lifecycle\tpruned %d AMIs, %d GiB of snapshots reclaimed (about $%.2f a month); kept %d (%s)\n",
		len(p.Deleted), p.ReclaimedGiB, p.MonthlySavings, len(p.Kept), keptCounts(p.Kept))
	// The images kept only for their age are in the prune report; those the fleet needs are the
	// point of the prune.
	for _, k := range p.Kept {
		if !keptForAge(k) {
			fmt.Fprintf(tw, "  \t  kept %s %s: %s\n", k.Region, k.AMI, strings.Join(k.Reasons, "; "))
		}
	}
	for _, d := range p.Deleted {
		fmt.Fprintf(tw, "  \t  deleted %s %s: %s\n", d.Region, d.AMI, strings.Join(d.Reasons, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	if len(s.Stages) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  STAGE\tWALL TIME")
		var total time.Duration
		for _, st := range s.Stages {
			fmt.Fprintf(tw, "  %s\t%s\n", st.Name, st.Elapsed.Round(time.Second))
			total += st.Elapsed
		}
		fmt.Fprintf(tw, "  packer build\t%s\n", total.Round(time.Second))
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	return writeLeftovers(w, s.Leftovers)
}

// writeLeftovers prints the temporary instances still alive, or that there are none.
func writeLeftovers(w io.Writer, left []Instance) error {
	if len(left) == 0 {
		_, err := fmt.Fprintln(w, "Temporary instances left: none")
		return err
	}
	fmt.Fprintf(w, "Temporary instances left: %d\n", len(left))
	for _, in := range left {
		fmt.Fprintf(w, "  %s %s (%s, image %s)\n", in.Region, in.ID, in.State, in.Image)
	}
	return nil
}

// keptForAge: the image is this run's (its image and copies: pinned), or kept for being among the
// newest or young and for nothing else.
func keptForAge(k RegionalImage) bool {
	if len(k.Codes) > 0 && k.Codes[0] == string(lifecycle.ReasonPinned) {
		return true
	}
	for _, c := range k.Codes {
		if c != string(lifecycle.ReasonNewest) && c != string(lifecycle.ReasonYoung) {
			return false
		}
	}
	return true
}

// keptCounts counts the kept images by their first (strongest) reason: "3 pinned, 6 newest, ...".
func keptCounts(kept []RegionalImage) string {
	var order []string
	n := map[string]int{}
	for _, k := range kept {
		code := "?"
		if len(k.Codes) > 0 {
			code = k.Codes[0]
		}
		if n[code] == 0 {
			order = append(order, code)
		}
		n[code]++
	}
	parts := make([]string, len(order))
	for i, c := range order {
		parts[i] = fmt.Sprintf("%d %s", n[c], c)
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
