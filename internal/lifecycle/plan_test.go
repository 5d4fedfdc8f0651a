package lifecycle

import (
	"strings"
	"testing"
	"time"
)

const self = "123456789012"

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// ami builds a selected (name golden-*), available, self-owned image created daysOld days ago.
func ami(id string, daysOld int, mods ...func(*Image)) Image {
	img := Image{
		ID:           id,
		Name:         "golden-" + id,
		OwnerID:      self,
		State:        "available",
		CreationDate: now.Add(-time.Duration(daysOld) * 24 * time.Hour),
		Tags:         map[string]string{"Pipeline": "golden"},
		Snapshots:    []Snapshot{{ID: "snap-" + id, SizeGiB: 8}},
	}
	for _, m := range mods {
		m(&img)
	}
	return img
}

func withTag(k, v string) func(*Image) { return func(i *Image) { i.Tags[k] = v } }
func withName(n string) func(*Image)   { return func(i *Image) { i.Name = n } }
func withOwner(o string) func(*Image)  { return func(i *Image) { i.OwnerID = o } }
func withState(s string) func(*Image)  { return func(i *Image) { i.State = s } }
func protected(i *Image)               { i.DeregistrationProtected = true }
func withSnapshots(s ...Snapshot) func(*Image) {
	return func(i *Image) { i.Snapshots = s }
}

func decisions(p PrunePlan) map[string]ImageDecision {
	m := map[string]ImageDecision{}
	for _, d := range p.Images {
		m[d.ImageID] = d
	}
	return m
}

func TestPlanDecisions(t *testing.T) {
	byName := PrunePolicy{NamePattern: "golden-*", DeleteSnapshots: true}
	with := func(p PrunePolicy, keep int, older time.Duration) PrunePolicy {
		p.KeepLatest, p.OlderThan = keep, older
		return p
	}
	days := func(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

	tests := []struct {
		name   string
		inv    Inventory
		policy PrunePolicy
		// want maps image id -> expected action and the reason code that must be among its reasons.
		want map[string]ReasonCode
		// deleted lists the expected deletions (every selected image not listed here is kept).
		deleted []string
	}{
		{
			name:    "keep_latest alone keeps the N newest whatever their age",
			inv:     Inventory{Images: []Image{ami("a", 1), ami("b", 2), ami("c", 3), ami("d", 400), ami("e", 500)}},
			policy:  with(byName, 2, 0),
			want:    map[string]ReasonCode{"a": ReasonNewest, "b": ReasonNewest, "c": ReasonExpired},
			deleted: []string{"c", "d", "e"},
		},
		{
			name:    "older_than alone keeps everything younger",
			inv:     Inventory{Images: []Image{ami("a", 10), ami("b", 29), ami("c", 31)}},
			policy:  with(byName, 0, days(30)),
			want:    map[string]ReasonCode{"a": ReasonYoung, "b": ReasonYoung, "c": ReasonExpired},
			deleted: []string{"c"},
		},
		{
			name:    "older_than unset: a creation date ahead of the clock keeps nothing",
			inv:     Inventory{Images: []Image{ami("a", -2), ami("b", -1), ami("c", 0)}},
			policy:  with(byName, 1, 0),
			want:    map[string]ReasonCode{"a": ReasonNewest, "b": ReasonExpired, "c": ReasonExpired},
			deleted: []string{"b", "c"},
		},
		{
			name:    "older_than set: a creation date ahead of the clock is young",
			inv:     Inventory{Images: []Image{ami("a", -2), ami("b", -1), ami("c", 40)}},
			policy:  with(byName, 1, days(30)),
			want:    map[string]ReasonCode{"a": ReasonNewest, "b": ReasonYoung, "c": ReasonExpired},
			deleted: []string{"c"},
		},
		{
			name:    "combined: young images beyond keep_latest stay",
			inv:     Inventory{Images: []Image{ami("a", 1), ami("b", 2), ami("c", 3), ami("d", 4)}},
			policy:  with(byName, 2, days(30)),
			want:    map[string]ReasonCode{"c": ReasonYoung, "d": ReasonYoung},
			deleted: nil,
		},
		{
			name:    "combined: old images among the newest N stay",
			inv:     Inventory{Images: []Image{ami("a", 40), ami("b", 50), ami("c", 60)}},
			policy:  with(byName, 2, days(30)),
			want:    map[string]ReasonCode{"a": ReasonNewest, "b": ReasonNewest, "c": ReasonExpired},
			deleted: []string{"c"},
		},
		{
			name: "every kind of use keeps an image",
			inv: Inventory{
				Images: []Image{ami("new", 0), ami("i", 90), ami("lt", 91), ami("asg", 92), ami("lc", 93), ami("ssm", 94), ami("old", 95)},
				Uses: []Use{
					{ImageID: "i", Kind: UseInstance, Resource: "i-0abc", Detail: "stopped"},
					{ImageID: "lt", Kind: UseLaunchTemplate, Resource: "lt-0abc", Detail: "version 1"},
					{ImageID: "asg", Kind: UseAutoScalingGroup, Resource: "web", Detail: "launch template lt-1 $Default"},
					{ImageID: "lc", Kind: UseLaunchConfiguration, Resource: "web-lc"},
					{ImageID: "ssm", Kind: UseSSMParameter, Resource: "/golden/latest"},
				},
			},
			policy: with(byName, 1, days(30)),
			want: map[string]ReasonCode{
				"new": ReasonNewest, "i": ReasonInUse, "lt": ReasonInUse, "asg": ReasonInUse, "lc": ReasonInUse, "ssm": ReasonInUse,
				"old": ReasonExpired,
			},
			deleted: []string{"old"},
		},
		{
			name: "safety exclusions",
			inv: Inventory{
				Images: []Image{
					ami("new", 0),
					ami("pinned", 90),
					ami("foreign", 90, withOwner("999988887777")),
					ami("prot", 90, protected),
					ami("kept", 90, withTag("golden:keep", "release 1.0")),
					ami("pending", 90, withState("pending")),
					ami("failed", 90, withState("failed")),
					ami("old", 90),
				},
				Pinned: map[string]string{"pinned": "source of this build"},
			},
			policy: func() PrunePolicy { p := with(byName, 1, days(30)); p.KeepTag = "golden:keep"; return p }(),
			want: map[string]ReasonCode{
				"pinned": ReasonPinned, "foreign": ReasonForeignOwner, "prot": ReasonProtected,
				"kept": ReasonKeepTag, "pending": ReasonNotFinal, "failed": ReasonNotFinal, "old": ReasonExpired,
			},
			deleted: []string{"old"},
		},
		{
			name:    "unknown account: nothing is provably ours",
			inv:     Inventory{Images: []Image{ami("a", 90), ami("b", 91)}},
			policy:  with(byName, 0, days(1)),
			want:    map[string]ReasonCode{"a": ReasonForeignOwner, "b": ReasonForeignOwner},
			deleted: nil,
		},
		{
			name: "selectors: name pattern and tags must all match",
			inv: Inventory{Images: []Image{
				ami("a", 90), ami("b", 90, withName("other-b")), ami("c", 90, withTag("Pipeline", "web")),
			}},
			policy:  PrunePolicy{NamePattern: "golden-*", MatchTags: map[string]string{"Pipeline": "gold*"}},
			want:    map[string]ReasonCode{"a": ReasonExpired},
			deleted: []string{"a"},
		},
		{
			name:    "no selector selects nothing",
			inv:     Inventory{Images: []Image{ami("a", 90)}},
			policy:  PrunePolicy{},
			want:    map[string]ReasonCode{},
			deleted: nil,
		},
		{
			name: "disabled images are pruned but do not count towards keep_latest",
			inv: Inventory{Images: []Image{
				ami("dis", 0, withState("disabled")), ami("a", 50), ami("b", 60),
			}},
			policy:  with(byName, 1, 0),
			want:    map[string]ReasonCode{"dis": ReasonExpired, "a": ReasonNewest, "b": ReasonExpired},
			deleted: []string{"dis", "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.inv.AccountID == "" && tt.name != "unknown account: nothing is provably ours" {
				tt.inv.AccountID = self
			}
			tt.inv.Region = "us-east-1"
			plan := Plan(tt.inv, tt.policy, now)
			got := decisions(plan)
			for id, code := range tt.want {
				d, ok := got[id]
				if !ok {
					t.Fatalf("image %s not in plan %+v", id, plan.Images)
				}
				if !hasReason(d, code) {
					t.Errorf("image %s: reasons %+v, want one with code %s", id, d.Reasons, code)
				}
			}
			var deleted []string
			for _, d := range plan.Images {
				if d.Action == Delete {
					deleted = append(deleted, d.ImageID)
				}
			}
			if strings.Join(deleted, ",") != strings.Join(tt.deleted, ",") {
				t.Errorf("deleted %v, want %v", deleted, tt.deleted)
			}
			for _, img := range tt.inv.Images {
				if _, in := got[img.ID]; in != tt.policy.Selects(img) {
					t.Errorf("image %s listed=%v but selected=%v", img.ID, in, tt.policy.Selects(img))
				}
			}
		})
	}
}

func hasReason(d ImageDecision, code ReasonCode) bool {
	for _, r := range d.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

func TestPlanSnapshots(t *testing.T) {
	shared := Snapshot{ID: "snap-shared", SizeGiB: 30}
	inv := Inventory{
		Region:    "eu-west-1",
		AccountID: self,
		Images: []Image{
			ami("new", 0),
			ami("old1", 100, withSnapshots(Snapshot{ID: "snap-old1-root", SizeGiB: 8}, Snapshot{ID: "snap-old1-data", SizeGiB: 100})),
			ami("old2", 100, withSnapshots(shared)),
			// Not selected, but it still uses the snapshot old2 shares with it.
			ami("other", 100, withName("unrelated"), withSnapshots(shared)),
			ami("old3", 100, withSnapshots(Snapshot{ID: "snap-both", SizeGiB: 10})),
			ami("old4", 100, withSnapshots(Snapshot{ID: "snap-both", SizeGiB: 10})),
		},
	}
	policy := PrunePolicy{NamePattern: "golden-*", KeepLatest: 1, DeleteSnapshots: true, PricePerGiBMonth: 0.05}
	plan := Plan(inv, policy, now)

	if got, want := strings.Join(plan.SnapshotsToDelete(), ","), "snap-both,snap-old1-data,snap-old1-root"; got != want {
		t.Errorf("snapshots to delete %s, want %s", got, want)
	}
	for _, s := range plan.Snapshots {
		if s.SnapshotID == "snap-shared" && (s.Action != Keep || !strings.Contains(s.Reason, "other")) {
			t.Errorf("shared snapshot: %+v, want kept because image other uses it", s)
		}
		if s.SnapshotID == "snap-both" && strings.Join(s.ImageIDs, ",") != "old3,old4" {
			t.Errorf("snap-both backs %v, want old3 and old4", s.ImageIDs)
		}
	}
	if plan.ReclaimedGiB != 118 {
		t.Errorf("reclaimed %d GiB, want 118", plan.ReclaimedGiB)
	}
	if plan.MonthlySavings != 5.9 {
		t.Errorf("monthly savings %v, want 5.9", plan.MonthlySavings)
	}

	policy.DeleteSnapshots = false
	plan = Plan(inv, policy, now)
	if len(plan.SnapshotsToDelete()) != 0 || plan.ReclaimedGiB != 0 {
		t.Errorf("delete_snapshots=false still deletes %v (%d GiB)", plan.SnapshotsToDelete(), plan.ReclaimedGiB)
	}
	if len(plan.ImagesToDelete()) != 4 {
		t.Errorf("images to delete %v, want 4", plan.ImagesToDelete())
	}
}

func TestReportTableAndJSON(t *testing.T) {
	inv := Inventory{
		Region: "us-east-1", AccountID: self,
		Images: []Image{ami("new", 0), ami("old", 90)},
		Uses:   []Use{{ImageID: "new", Kind: UseInstance, Resource: "i-0123", Detail: "running"}},
		Pinned: map[string]string{"new": "built by this run"},
	}
	plan := Plan(inv, PrunePolicy{NamePattern: "golden-*", KeepLatest: 1, DeleteSnapshots: true}, now)
	report := NewReport([]PrunePlan{plan}, true, now)

	var b strings.Builder
	if err := report.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	table := b.String()
	for _, want := range []string{
		"Prune plan for us-east-1",
		"keep", "built by this run", "in use by instance i-0123 (running)", "newest 1 of keep_latest 1",
		"delete", "90d old", "rank 2 beyond keep_latest 1",
		"snap-old", "8 GiB", "would delete (dry run) 1 image(s)", "$0.40 per month",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	js, err := report.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"reclaimed_gib": 8`, `"monthly_savings_usd": 0.4`, `"code": "in-use"`, `"action": "delete"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s:\n%s", want, js)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"golden-*", "golden-ubuntu-22.04-1700000000", true},
		{"golden-*", "golden-", true},
		{"golden-*", "gold", false},
		{"*-22.04-*", "golden-ubuntu-22.04-17", true},
		{"golden-?", "golden-a", true},
		{"golden-?", "golden-ab", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"[prod]/*", "[prod]/x", true},
		{"", "", true},
		{"", "x", false},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestParseAge(t *testing.T) {
	good := map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "720h": 720 * time.Hour, "1h30m": 90 * time.Minute, "0d": 0, " 2d ": 48 * time.Hour,
	}
	for in, want := range good {
		got, err := ParseAge(in)
		if err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "90", "-1h", "-3d", "1.5d", "ninety days", "3w"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) accepted", in)
		}
	}
	if FormatAge(30*24*time.Hour) != "30d" || FormatAge(90*time.Minute) != "1h30m0s" {
		t.Errorf("FormatAge: %s %s", FormatAge(30*24*time.Hour), FormatAge(90*time.Minute))
	}
}
