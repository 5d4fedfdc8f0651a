package hardening

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// Status is the outcome of one control.
type Status string

const (
	StatusPass    Status = "pass"    // compliant before the run (or, in the "before" view, at the first check)
	StatusFixed   Status = "fixed"   // was not compliant, the fix made it so (re-checked)
	StatusFailed  Status = "failed"  // not compliant at the end of the run (or its check could not run)
	StatusSkipped Status = "skipped" // not applicable on this host
	StatusWaived  Status = "waived"  // failed, but a waiver accepts it
)

// Result is one control's outcome, as the script reported it (plus the waiver applied on the Go side).
type Result struct {
	ID             string
	Module         string
	Status         Status
	Before         Status // status at the first check: pass, failed or skipped
	NextBoot       bool   // configured, in force after the next boot
	Duration       time.Duration
	Evidence       string // output of the last check
	BeforeEvidence string // output of the first check, when a fix ran
	Message        string // why it is skipped or failed; finalize output on rollback
	Backups        []string
	RolledBack     bool    // the module's Finalize failed and its changes were restored
	Waiver         *Waiver // set when Status is waived
}

// ModuleRun is how one module's Finalize went.
type ModuleRun struct {
	Name     string
	Finalize string        // not_needed (no fix ran), none (no finalize), ok, failed (changes rolled back)
	Duration time.Duration // checks, fixes and Finalize (re-checks come after)
	// FinalizeDuration is the time Finalize took (the first attempt).
	FinalizeDuration time.Duration
	Message          string
	Usage
}

// Usage is the work a stretch of the run did on the target, which a loaded machine does not
// inflate the way it does wall times.
type Usage struct {
	// CPU is the script's CPU time (its shell and every process it waited for).
	CPU time.Duration
	// MachineCPU is the CPU time of the whole machine (its cgroup: a container's processes, a
	// VM's), daemons that systemd started included; -1 when the target does not tell.
	MachineCPU time.Duration
	// Processes is how many processes the machine started (its pid namespace); -1 when unknown.
	Processes int64
}

// Run is everything one script run reported.
type Run struct {
	RunID       string
	Mode        Mode
	InContainer bool
	BackupDir   string
	Duration    time.Duration
	Usage
	Modules []ModuleRun
	Results []Result // in the planned order of the controls
}

// record is the JSON shape of every marker line the script prints (see runtime.sh, _g_emit).
type record struct {
	Type string `json:"type"`
	// run
	RunID       string `json:"run_id"`
	Mode        string `json:"mode"`
	InContainer bool   `json:"in_container"`
	BackupDir   string `json:"backup_dir"`
	// control
	ID             string   `json:"id"`
	Module         string   `json:"module"`
	Status         string   `json:"status"`
	Before         string   `json:"before"`
	NextBoot       bool     `json:"next_boot"`
	Evidence       string   `json:"evidence"`
	BeforeEvidence string   `json:"before_evidence"`
	Message        string   `json:"message"`
	Backups        []string `json:"backups"`
	RolledBack     bool     `json:"rolled_back"`
	// module
	Name       string `json:"name"`
	Finalize   string `json:"finalize"`
	FinalizeMS int64  `json:"finalize_ms"`
	// module and end
	CPUMS        int64  `json:"cpu_ms"`
	MachineCPUMS *int64 `json:"machine_cpu_ms"`
	Processes    *int64 `json:"processes"`
	// end
	Controls   *int  `json:"controls"`
	DurationMS int64 `json:"duration_ms"`
}

// Collector turns the script's result lines into a Run, checking that the run was complete: a
// script killed halfway or a dropped connection must read as an error, never as a clean run.
type Collector struct {
	planned  []string       // control ids in the planned order
	index    map[string]int // id -> position in planned
	run      Run
	results  map[string]Result
	sawBegin bool
	sawEnd   bool
	endCount int
	// OnResult, when set, is called with each control result as soon as it arrives.
	OnResult func(Result)
	// OnModule, when set, is called when a module's Finalize has run (or was not needed), before
	// the results of the controls it fixed.
	OnModule func(ModuleRun)
}

// NewCollector expects one result per planned control id.
func NewCollector(planned []string) *Collector {
	c := &Collector{planned: planned, index: map[string]int{}, results: map[string]Result{}}
	for i, id := range planned {
		c.index[id] = i
	}
	return c
}

// PlannedIDs lists the control ids of a selection in run order.
func PlannedIDs(modules []Module) []string {
	var ids []string
	for _, m := range modules {
		for _, c := range m.Controls {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Add takes one result line without the marker (a JSON object).
func (c *Collector) Add(line []byte) error {
	var r record
	if err := json.Unmarshal(line, &r); err != nil {
		return fmt.Errorf("reading a result line %q: %w", truncate(string(line), 200), err)
	}
	switch r.Type {
	case "run":
		c.sawBegin = true
		c.run.RunID, c.run.Mode, c.run.InContainer, c.run.BackupDir = r.RunID, Mode(r.Mode), r.InContainer, r.BackupDir
	case "module":
		m := ModuleRun{Name: r.Name, Finalize: r.Finalize, Duration: ms(r.DurationMS), FinalizeDuration: ms(r.FinalizeMS),
			Message: r.Message, Usage: r.usage()}
		c.run.Modules = append(c.run.Modules, m)
		if c.OnModule != nil {
			c.OnModule(m)
		}
	case "control":
		if _, ok := c.index[r.ID]; !ok {
			return fmt.Errorf("the script reported control %q, which was not planned", r.ID)
		}
		if _, dup := c.results[r.ID]; dup {
			return fmt.Errorf("the script reported control %q twice", r.ID)
		}
		res, err := r.result()
		if err != nil {
			return err
		}
		c.results[r.ID] = res
		if c.OnResult != nil {
			c.OnResult(res)
		}
	case "end":
		c.sawEnd = true
		if r.Controls != nil {
			c.endCount = *r.Controls
		}
		c.run.Duration = ms(r.DurationMS)
		c.run.Usage = r.usage()
	default:
		return fmt.Errorf("unknown result line type %q", r.Type)
	}
	return nil
}

func (r record) usage() Usage {
	u := Usage{CPU: ms(r.CPUMS), MachineCPU: -1, Processes: -1}
	if r.MachineCPUMS != nil {
		u.MachineCPU = ms(*r.MachineCPUMS)
	}
	if r.Processes != nil {
		u.Processes = *r.Processes
	}
	return u
}

func (r record) result() (Result, error) {
	res := Result{
		ID: r.ID, Module: r.Module, Status: Status(r.Status), NextBoot: r.NextBoot, Duration: ms(r.DurationMS),
		Evidence: r.Evidence, BeforeEvidence: r.BeforeEvidence, Message: r.Message, Backups: r.Backups, RolledBack: r.RolledBack,
	}
	switch res.Status {
	case StatusPass, StatusFixed, StatusFailed, StatusSkipped:
	default:
		return res, fmt.Errorf("control %s: unknown status %q", r.ID, r.Status)
	}
	switch r.Before {
	case "pass":
		res.Before = StatusPass
	case "skipped":
		res.Before = StatusSkipped
	default: // "fail" or "error": the check said not compliant or could not run
		res.Before = StatusFailed
	}
	return res, nil
}

// Run returns the collected run, or an error naming what is missing when the script did not
// report every planned control or did not reach its end.
func (c *Collector) Run() (*Run, error) {
	var missing []string
	for _, id := range c.planned {
		if _, ok := c.results[id]; !ok {
			missing = append(missing, id)
		}
	}
	switch {
	case !c.sawBegin:
		return nil, fmt.Errorf("the hardening script produced no results (it did not start: see its output above)")
	case len(missing) > 0:
		return nil, fmt.Errorf("the hardening script stopped before it finished: %d of %d controls reported, missing %s",
			len(c.planned)-len(missing), len(c.planned), listSome(missing, 5))
	case !c.sawEnd:
		return nil, fmt.Errorf("the hardening script stopped after its last control, before its end record")
	case c.endCount != len(c.planned):
		return nil, fmt.Errorf("the hardening script ran %d controls, %d were planned", c.endCount, len(c.planned))
	}
	run := c.run
	run.Results = make([]Result, 0, len(c.planned))
	for _, id := range c.planned {
		run.Results = append(run.Results, c.results[id])
	}
	return &run, nil
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// Waiver accepts a failing control: it is reported waived, with the justification, until it expires.
type Waiver struct {
	Control       string
	Justification string
	Expires       time.Time // zero: never
}

// Expired reports whether the waiver no longer applies at now (it is valid through its expiry day).
func (w Waiver) Expired(now time.Time) bool {
	return !w.Expires.IsZero() && !now.Before(w.Expires.AddDate(0, 0, 1))
}

// ApplyWaivers turns failed results covered by a valid waiver into waived ones. Expired waivers
// are ignored and named in the warnings.
func ApplyWaivers(results []Result, waivers []Waiver, now time.Time) ([]Result, []string) {
	var warnings []string
	valid := map[string]*Waiver{}
	for i := range waivers {
		w := waivers[i]
		if w.Expired(now) {
			warnings = append(warnings, fmt.Sprintf("the waiver for %s expired on %s and is ignored", w.Control, w.Expires.Format(time.DateOnly)))
			continue
		}
		valid[w.Control] = &w
	}
	out := make([]Result, len(results))
	for i, r := range results {
		if w, ok := valid[r.ID]; ok && r.Status == StatusFailed {
			r.Status = StatusWaived
			r.Waiver = w
		}
		out[i] = r
	}
	return out, warnings
}

// CountAfter counts the final statuses.
func CountAfter(results []Result) report.Counts {
	var c report.Counts
	for _, r := range results {
		c.Add(string(r.Status))
	}
	return c
}

// CountBefore counts the statuses at the first check (what the host looked like before the run).
func CountBefore(results []Result) report.Counts {
	var c report.Counts
	for _, r := range results {
		c.Add(string(r.Before))
	}
	return c
}

// ChangedFiles lists every file the run changed (and kept changed), sorted.
func ChangedFiles(results []Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range results {
		if r.RolledBack {
			continue
		}
		for _, f := range r.Backups {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out
}
