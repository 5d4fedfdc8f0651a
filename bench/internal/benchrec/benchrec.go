// Package benchrec is what every benchmark suite under bench/ shares: how many runs to make, the
// rows they measure (every run's value, the median and the range), the assumptions they make, and
// the JSON file each suite leaves for `make bench` to merge into one table (bench/cmd/benchreport).
//
// Environment:
//
//	GOLDEN_BENCH=1        run the benchmarks (they skip themselves otherwise)
//	GOLDEN_BENCH_RUNS=N   runs of every measurement (default 5; `make bench-quick` sets 1)
//	GOLDEN_BENCH_OUT=DIR  where each suite writes SUITE.json (unset: the table is only printed)
package benchrec

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultRuns is how many times `make bench` measures everything: enough for a median that one
// disturbed run does not move.
const DefaultRuns = 5

// Require skips the benchmark unless GOLDEN_BENCH=1: timings mean nothing in `make test`.
func Require(tb testing.TB) {
	tb.Helper()
	if os.Getenv("GOLDEN_BENCH") != "1" {
		tb.Skip("benchmark: set GOLDEN_BENCH=1 to run it")
	}
}

// Runs is GOLDEN_BENCH_RUNS, or DefaultRuns.
func Runs() int {
	if n, err := strconv.Atoi(os.Getenv("GOLDEN_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return DefaultRuns
}

// Quick reports whether this is a 1-run bench (`make bench-quick`), where the slowest comparisons
// are computed rather than run.
func Quick() bool { return Runs() == 1 }

// Row is one measured quantity: a value per run, and what it is compared with.
type Row struct {
	// Group is the point the row belongs to ("hardening vs Ansible", "prune scale"...).
	Group string `json:"group"`
	Name  string `json:"name"`
	// Unit is "s", "ms", "calls", "sessions", "changes", "x" (a ratio), "MiB"...
	Unit   string    `json:"unit"`
	Values []float64 `json:"values"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	// How says how the figure was obtained when it is not a plain measurement: "computed" (from
	// the fleet's description, too long to run), "estimated" (extrapolated), "counted"...
	How string `json:"how,omitempty"`
	// Goal is the target for the figure ("<= 1.3x"), Verdict "met" or "MISSED".
	Goal    string `json:"goal,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	Note    string `json:"note,omitempty"`
}

// Suite collects one benchmark package's rows.
type Suite struct {
	Name        string    `json:"suite"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	Runs        int       `json:"runs"`
	LoadStart   string    `json:"load_start"`
	LoadEnd     string    `json:"load_end"`
	Assumptions []string  `json:"assumptions"`
	Rows        []*Row    `json:"rows"`
	// NotMeasured names the rows that no run gave a value: Finish moves them out of Rows, so that
	// a figure of no sample is never printed or read as 0.
	NotMeasured []string       `json:"not_measured,omitempty"`
	Details     map[string]any `json:"details,omitempty"`

	mu sync.Mutex
}

// NewSuite starts a suite, noting the machine's load.
func NewSuite(name string) *Suite {
	return &Suite{Name: name, Started: time.Now().UTC(), Runs: Runs(), LoadStart: LoadAverage(), Details: map[string]any{}}
}

// Assume records something the suite's figures depend on.
func (s *Suite) Assume(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Assumptions = append(s.Assumptions, fmt.Sprintf(format, args...))
}

// Detail keeps a value for the JSON file (per-run breakdowns, module timings...).
func (s *Suite) Detail(key string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Details[key] = v
}

// Row returns the row of group and name, made on first use.
func (s *Suite) Row(group, name, unit string) *Row {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.Rows {
		if r.Group == group && r.Name == name {
			return r
		}
	}
	r := &Row{Group: group, Name: name, Unit: unit}
	s.Rows = append(s.Rows, r)
	return r
}

// Add records one run's value.
func (r *Row) Add(v float64) *Row {
	r.Values = append(r.Values, v)
	r.Median, r.Min, r.Max = Stats(r.Values)
	return r
}

// AddDuration records one run's duration in the row's unit (s or ms).
func (r *Row) AddDuration(d time.Duration) *Row {
	if r.Unit == "ms" {
		return r.Add(float64(d) / float64(time.Millisecond))
	}
	return r.Add(d.Seconds())
}

// Target sets the goal and judges the median against it: at most limit when atMost, at least
// otherwise. A row without values gets no verdict.
func (r *Row) Target(goal string, limit float64, atMost bool) *Row {
	r.Goal = goal
	if len(r.Values) == 0 {
		r.Verdict = ""
		return r
	}
	met := r.Median <= limit
	if !atMost {
		met = r.Median >= limit
	}
	r.Verdict = map[bool]string{true: "met", false: "MISSED"}[met]
	return r
}

// Ratio makes a row holding num/den of every run the two rows share, in "x".
func (s *Suite) Ratio(group, name string, num, den *Row) *Row {
	r := s.Row(group, name, "x")
	r.Values = nil
	for i := range min(len(num.Values), len(den.Values)) {
		if den.Values[i] > 0 {
			r.Add(num.Values[i] / den.Values[i])
		}
	}
	return r
}

// Stats returns the median, minimum and maximum of values (all zero when there are none).
func Stats(values []float64) (median, lo, hi float64) {
	if len(values) == 0 {
		return 0, 0, 0
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	n := len(v)
	median = v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return median, v[0], v[n-1]
}

// LoadAverage is /proc/loadavg's three load averages.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Finish prints the suite's table and writes SUITE.json into GOLDEN_BENCH_OUT when it is set.
// Call it from TestMain once the tests have run.
func (s *Suite) Finish() error {
	s.Ended = time.Now().UTC()
	s.LoadEnd = LoadAverage()
	s.dropUnmeasured()
	fmt.Print(Table([]*Suite{s}))
	dir := os.Getenv("GOLDEN_BENCH_OUT")
	if dir == "" {
		return nil
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, s.Name+".json"), append(b, '\n'), 0o644)
}

// dropUnmeasured moves the rows without values from Rows to NotMeasured.
func (s *Suite) dropUnmeasured() {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.Rows[:0]
	for _, r := range s.Rows {
		if len(r.Values) == 0 {
			s.NotMeasured = append(s.NotMeasured, r.Name)
			continue
		}
		kept = append(kept, r)
	}
	s.Rows = kept
}

// Main runs a suite's tests and then finishes it: call it from TestMain. run is the harness's own
// Main when it has one (lab.Main), else m.Run.
func Main(s *Suite, run func() int) int {
	code := run()
	if os.Getenv("GOLDEN_BENCH") == "1" && len(s.Rows) > 0 {
		if err := s.Finish(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			code = 1
		}
	}
	return code
}

// Table renders suites as one table: a line per row, grouped, with the median and the range of
// the runs, then each suite's load and assumptions. A row without values is no figure: it is
// named under its suite as not measured, never printed as 0.
func Table(suites []*Suite) string {
	var b strings.Builder
	const format = "%-58s %12s %21s %4s  %-16s %-7s %s\n"
	fmt.Fprintf(&b, "\n"+format, "measurement", "median", "min-max", "runs", "goal", "", "how / note")
	for _, s := range suites {
		group := ""
		for _, r := range s.Rows {
			if len(r.Values) == 0 {
				continue
			}
			if r.Group != group {
				group = r.Group
				fmt.Fprintf(&b, "-- %s (%s)\n", group, s.Name)
			}
			note := r.How
			if r.Note != "" {
				note = strings.TrimPrefix(note+"; "+r.Note, "; ")
			}
			fmt.Fprintf(&b, format, "  "+r.Name, Format(r.Median, r.Unit), Format(r.Min, r.Unit)+"-"+Format(r.Max, r.Unit),
				strconv.Itoa(len(r.Values)), r.Goal, r.Verdict, note)
		}
	}
	for _, s := range suites {
		took := ""
		if !s.Ended.IsZero() {
			took = fmt.Sprintf(" in %s", s.Ended.Sub(s.Started).Round(time.Second))
		}
		fmt.Fprintf(&b, "\n%s: %d run(s)%s, load %s at start, %s at end\n", s.Name, s.Runs, took, s.LoadStart, s.LoadEnd)
		for _, a := range s.Assumptions {
			fmt.Fprintf(&b, "  assumes: %s\n", a)
		}
		unmeasured := append([]string(nil), s.NotMeasured...)
		for _, r := range s.Rows {
			if len(r.Values) == 0 {
				unmeasured = append(unmeasured, r.Name)
			}
		}
		if len(unmeasured) > 0 {
			fmt.Fprintf(&b, "  NOT MEASURED (no run gave a value): %s\n", strings.Join(unmeasured, "; "))
		}
	}
	return b.String()
}

// Format prints a value with its unit, to a precision that suits its size.
func Format(v float64, unit string) string {
	var num string
	switch a := math.Abs(v); {
	case unit == "calls" || unit == "sessions" || unit == "changes" || unit == "logins" || unit == "requests":
		num = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		num = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		num = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		num = strconv.FormatFloat(v, 'f', 2, 64)
	}
	switch unit {
	case "x":
		return num + "x"
	case "s", "ms", "MiB":
		return num + " " + unit
	}
	return num
}
