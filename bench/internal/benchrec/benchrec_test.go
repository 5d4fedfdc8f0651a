package benchrec

import (
	"strings"
	"testing"
)

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		values           []float64
		median, min, max float64
	}{
		{nil, 0, 0, 0},
		{[]float64{3}, 3, 3, 3},
		{[]float64{5, 1, 3}, 3, 1, 5},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{9, 1, 1, 1, 9}, 1, 1, 9},
	} {
		m, lo, hi := Stats(tc.values)
		if m != tc.median || lo != tc.min || hi != tc.max {
			t.Errorf("Stats(%v) = %v %v %v, want %v %v %v", tc.values, m, lo, hi, tc.median, tc.min, tc.max)
		}
	}
}

func TestTargetAndRatio(t *testing.T) {
	s := NewSuite("t")
	fast := s.Row("g", "fast", "s").Add(1).Add(2).Add(3)
	slow := s.Row("g", "slow", "s").Add(10).Add(30).Add(20)
	if fast.Target("<= 2 s", 2, true).Verdict != "met" || fast.Target("<= 1 s", 1, true).Verdict != "MISSED" {
		t.Errorf("at-most verdicts wrong: %+v", fast)
	}
	r := s.Ratio("g", "slow / fast", slow, fast)
	// Run by run: 10/1, 30/2, 20/3; the median of the ratios (10), not the ratio of the medians (10
	// too here, so the range tells them apart).
	if len(r.Values) != 3 || r.Median != 10 || r.Min < 6.66 || r.Min > 6.67 || r.Max != 15 {
		t.Errorf("ratio row %+v", r)
	}
	if r.Target(">= 10x", 10, false).Verdict != "met" {
		t.Errorf("at-least verdict wrong: %+v", r)
	}
	if s.Row("g", "fast", "s") != fast {
		t.Error("Row made a second row for the same name")
	}
}

func TestTableShowsEveryRowLoadAndAssumption(t *testing.T) {
	s := NewSuite("lifecycle")
	s.Assume("the simulator has no latency")
	s.Row("prune scale", "calls, 1000 AMIs", "calls").Add(222).How = "counted"
	s.Row("copy", "5 regions / 1", "x").Add(1.04).Target("<= 1.3x", 1.3, true)
	out := Table([]*Suite{s})
	for _, want := range []string{"-- prune scale (lifecycle)", "calls, 1000 AMIs", "222", "counted", "1.04x", "<= 1.3x", "met",
		"assumes: the simulator has no latency", "load "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{166651, "calls", "166651"},
		{2.345, "s", "2.35 s"},
		{13.1, "ms", "13.1 ms"},
		{751.2, "x", "751x"},
		{0.004, "x", "0.00x"},
	} {
		if got := Format(tc.v, tc.unit); got != tc.want {
			t.Errorf("Format(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

// A row no run gave a value is no figure: no median of 0 with 0 runs, no verdict, and the table
// names it as not measured, whether Finish has moved it out of the rows or not.
func TestRowsWithoutValuesAreNotFigures(t *testing.T) {
	s := NewSuite("ansible")
	s.Row("g", "measured", "s").Add(2)
	empty := s.Row("g", "of which the apt task", "s").Target("< 1 s", 1, true)
	if empty.Verdict != "" {
		t.Errorf("a row without values got the verdict %q", empty.Verdict)
	}
	ratio := s.Ratio("g", "ratio of nothing", empty, s.Row("g", "measured", "s"))
	if len(ratio.Values) != 0 {
		t.Fatalf("ratio of an empty row has values %v", ratio.Values)
	}
	check := func(when string) {
		out := Table([]*Suite{s})
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "of which the apt task") || strings.HasPrefix(strings.TrimSpace(line), "ratio of nothing") {
				t.Errorf("%s: the table prints an unmeasured row as a figure: %q", when, line)
			}
		}
		if !strings.Contains(out, "NOT MEASURED (no run gave a value): of which the apt task; ratio of nothing") {
			t.Errorf("%s: the table does not name the unmeasured rows:\n%s", when, out)
		}
		if !strings.Contains(out, "  measured ") {
			t.Errorf("%s: the measured row is missing:\n%s", when, out)
		}
	}
	check("before Finish")
	s.dropUnmeasured()
	if len(s.Rows) != 1 || len(s.NotMeasured) != 2 {
		t.Errorf("after dropUnmeasured: rows %d, not measured %v", len(s.Rows), s.NotMeasured)
	}
	check("after Finish")
}
