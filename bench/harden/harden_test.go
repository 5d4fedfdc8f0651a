// Package harden benchmarks golden-harden on the Debian 12 lab target: the baseline profile (the
// hand-written playbook's scope) and the full cis-level1-server profile, each applied to a fresh
// target with the packages already installed and then re-run. It prints one table. Run it with
// GOLDEN_BENCH=1 go test -count=1 -v ./bench/harden (it needs the lab, like the e2e suite).
package harden

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

func TestMain(m *testing.M) { os.Exit(lab.Main(m)) }

type scenario struct {
	profile string
	target  time.Duration // the target for the first apply
	rerun   time.Duration // and for the re-run (0: none stated)
}

type row struct {
	name            string
	build, apply    time.Duration
	script          time.Duration
	counts          report.Counts
	target, verdict string
}

func TestBenchmarkHarden(t *testing.T) {
	if os.Getenv("GOLDEN_BENCH") != "1" {
		t.Skip("benchmark: set GOLDEN_BENCH=1 to run it")
	}
	scenarios := []scenario{
		{profile: "baseline", target: 3 * time.Second, rerun: 2 * time.Second},
		{profile: "cis-level1-server", target: 10 * time.Second},
	}
	var rows []row
	for _, sc := range scenarios {
		// The lab's hardening image holds every package the profiles install, so the benchmark
		// measures hardening, not the mirror.
		h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
		p := lab.Packer(t)
		for i, name := range []string{"apply", "re-run"} {
			reportFile := filepath.Join(p.Dir, fmt.Sprintf("%s-%d.json", sc.profile, i))
			template := p.WriteFile(t, fmt.Sprintf("%s-%d.pkr.hcl", sc.profile, i), lab.NullSSHTemplate(fmt.Sprintf(`  provisioner "golden-harden" {
    profile = %q
    report  = %q
  }`, sc.profile, reportFile)))
			started := time.Now()
			res := p.Run(t, append(append([]string{"build", "-color=false"}, h.PackerVars()...), template)...)
			build := time.Since(started)
			if res.ExitCode != 0 {
				t.Fatalf("%s %s: packer build failed:\n%s", sc.profile, name, res.Output)
			}
			b, err := os.ReadFile(reportFile)
			if err != nil {
				t.Fatal(err)
			}
			r, err := report.ParseJSON(b)
			if err != nil {
				t.Fatal(err)
			}
			script, _ := strconv.ParseInt(r.Property("script_ms"), 10, 64)
			limit := sc.target
			if i == 1 {
				limit = sc.rerun
			}
			rw := row{name: sc.profile + " " + name, build: build, apply: time.Duration(r.DurationMS) * time.Millisecond,
				script: time.Duration(script) * time.Millisecond, counts: r.After, target: "-", verdict: "-"}
			if limit > 0 {
				rw.target = "< " + limit.String()
				rw.verdict = "met"
				if rw.apply > limit {
					rw.verdict = "MISSED"
				}
			}
			rows = append(rows, rw)
			if i == 0 {
				t.Logf("%s: slowest controls of the first apply: %s", sc.profile, slowest(r, 8))
				t.Logf("%s: modules of the first apply (checks, fixes and finalize): %s", sc.profile, timings(r))
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-28s %9s %9s %9s %6s %6s %6s %9s %7s\n", "scenario", "build", "apply", "script", "pass", "fixed", "failed", "target", "")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-28s %8.2fs %8.2fs %8.2fs %6d %6d %6d %9s %7s\n", r.name, r.build.Seconds(), r.apply.Seconds(),
			r.script.Seconds(), r.counts.Pass, r.counts.Fixed, r.counts.Failed, r.target, r.verdict)
	}
	b.WriteString("\nbuild: the whole `packer build` (packer, plugin start, SSH); apply: golden-harden from the first\n" +
		"upload to the last result (render, upload, one sudo run, results); script: the run on the target.\n")
	fmt.Print(b.String())
}

// slowest names the n controls that took longest, with their time.
func slowest(r *report.Report, n int) string {
	items := append([]report.Item(nil), r.Items...)
	sort.Slice(items, func(i, j int) bool { return items[i].DurationMS > items[j].DurationMS })
	var parts []string
	var sum int64
	for i, it := range items {
		sum += it.DurationMS
		if i < n {
			parts = append(parts, fmt.Sprintf("%s %dms", it.ID, it.DurationMS))
		}
	}
	return fmt.Sprintf("%s; all controls %dms, the rest (finalize, driver) %dms", strings.Join(parts, ", "), sum, r.DurationMS-sum)
}

func timings(r *report.Report) string {
	var parts []string
	for _, tm := range r.Timings {
		parts = append(parts, fmt.Sprintf("%s %dms", strings.TrimPrefix(tm.Name, "module "), tm.DurationMS))
	}
	return strings.Join(parts, ", ")
}
