package hardening

import (
	"strings"
	"testing"
	"time"
)

func TestCollectorRejectsIncompleteOrStrangeRuns(t *testing.T) {
	planned := []string{"a.one", "a.two"}
	run := `{"type":"run","run_id":"r","mode":"enforce","in_container":true,"backup_dir":"/b"}`
	one := `{"type":"control","id":"a.one","module":"a","status":"pass","before":"pass","duration_ms":3}`
	two := `{"type":"control","id":"a.two","module":"a","status":"fixed","before":"fail","backups":["/etc/x"],"duration_ms":5}`
	end := `{"type":"end","controls":2,"duration_ms":9}`
	cases := []struct {
		name  string
		lines []string
		want  string // error substring; "" = complete
	}{
		{"complete", []string{run, one, `{"type":"module","name":"a","finalize":"ok","duration_ms":1,"message":""}`, two, end}, ""},
		{"nothing", nil, "produced no results"},
		{"cut after one control", []string{run, one}, "1 of 2 controls reported, missing a.two"},
		{"no end record", []string{run, one, two}, "before its end record"},
		{"end disagrees", []string{run, one, two, `{"type":"end","controls":3}`}, "ran 3 controls, 2 were planned"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector(planned)
			for _, l := range tc.lines {
				if err := c.Add([]byte(l)); err != nil {
					t.Fatal(err)
				}
			}
			r, err := c.Run()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if r.RunID != "r" || !r.InContainer || r.Duration != 9*time.Millisecond || len(r.Modules) != 1 ||
					r.Results[1].Status != StatusFixed || r.Results[1].Before != StatusFailed || r.Results[1].Backups[0] != "/etc/x" {
					t.Errorf("run %+v", r)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	for _, bad := range []string{
		`not json`,
		`{"type":"control","id":"a.three","status":"pass"}`,
		`{"type":"control","id":"a.one","status":"great"}`,
		`{"type":"weird"}`,
	} {
		if err := NewCollector(planned).Add([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	c := NewCollector(planned)
	_ = c.Add([]byte(one))
	if err := c.Add([]byte(one)); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate accepted: %v", err)
	}
}

func TestWaivers(t *testing.T) {
	day := func(s string) time.Time {
		d, _ := time.Parse(time.DateOnly, s)
		return d
	}
	results := []Result{
		{ID: "a.failed", Status: StatusFailed},
		{ID: "a.expired", Status: StatusFailed},
		{ID: "a.pass", Status: StatusPass},
		{ID: "a.forever", Status: StatusFailed},
		{ID: "a.lastday", Status: StatusFailed},
	}
	waivers := []Waiver{
		{Control: "a.failed", Justification: "j1", Expires: day("2026-12-31")},
		{Control: "a.expired", Justification: "j2", Expires: day("2026-06-01")},
		{Control: "a.pass", Justification: "j3"},
		{Control: "a.forever", Justification: "j4"},
		{Control: "a.lastday", Justification: "j5", Expires: day("2026-06-02")},
	}
	now := time.Date(2026, 6, 2, 23, 59, 0, 0, time.UTC)
	got, warnings := ApplyWaivers(results, waivers, now)
	want := []Status{StatusWaived, StatusFailed, StatusPass, StatusWaived, StatusWaived}
	for i, r := range got {
		if r.Status != want[i] {
			t.Errorf("%s: %s, want %s", r.ID, r.Status, want[i])
		}
		if (r.Status == StatusWaived) != (r.Waiver != nil) {
			t.Errorf("%s: waiver %+v", r.ID, r.Waiver)
		}
	}
	if len(warnings) != 1 || warnings[0] != "the waiver for a.expired expired on 2026-06-01 and is ignored" {
		t.Errorf("warnings %q", warnings)
	}
	if results[0].Status != StatusFailed {
		t.Error("ApplyWaivers changed its input")
	}
	c := CountAfter(got)
	if c.Waived != 3 || c.Failed != 1 || c.Score() != 50 {
		t.Errorf("counts %+v score %v", c, c.Score())
	}
}
