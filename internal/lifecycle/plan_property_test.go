package lifecycle

import (
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"
	"time"
)

// fleet is a random region: images of several pipelines and owners, shared snapshots, uses of
// every kind, pins, and a random policy.
type fleet struct {
	Inv    Inventory
	Policy PrunePolicy
}

func (fleet) Generate(r *rand.Rand, size int) reflect.Value {
	n := r.Intn(size*2 + 1)
	inv := Inventory{Region: "us-east-1", AccountID: self, Pinned: map[string]string{}}
	states := []string{"available", "available", "available", "disabled", "pending", "failed"}
	names := []string{"golden-a-", "golden-b-", "other-"}
	// A small pool of snapshot ids makes sharing between images common.
	snapPool := n/2 + 1
	for i := range n {
		img := Image{
			ID:      fmt.Sprintf("ami-%05d", i),
			Name:    names[r.Intn(len(names))] + fmt.Sprint(i),
			OwnerID: self,
			State:   states[r.Intn(len(states))],
			// Coarse ages make equal creation dates (ties) happen.
			CreationDate:            now.Add(-time.Duration(r.Intn(30)) * 7 * 24 * time.Hour),
			Tags:                    map[string]string{},
			DeregistrationProtected: r.Intn(10) == 0,
		}
		if r.Intn(20) == 0 {
			// A creation date ahead of the clock: a concurrent build, or a skewed clock.
			img.CreationDate = now.Add(time.Duration(r.Intn(48)+1) * time.Hour)
		}
		if r.Intn(8) == 0 {
			img.OwnerID = "999988887777"
		}
		if r.Intn(2) == 0 {
			img.Tags["Pipeline"] = "golden"
		}
		if r.Intn(10) == 0 {
			img.Tags["golden:keep"] = "yes"
		}
		for range r.Intn(3) + 1 {
			img.Snapshots = append(img.Snapshots, Snapshot{ID: fmt.Sprintf("snap-%04d", r.Intn(snapPool)), SizeGiB: int64(r.Intn(200) + 1)})
		}
		if r.Intn(12) == 0 {
			inv.Pinned[img.ID] = "built by this run"
		}
		inv.Images = append(inv.Images, img)
	}
	kinds := []UseKind{UseInstance, UseLaunchTemplate, UseAutoScalingGroup, UseLaunchConfiguration, UseSSMParameter}
	for i := range r.Intn(n + 1) {
		// Some uses point at images that do not exist (another account's, a deleted one).
		target := fmt.Sprintf("ami-%05d", r.Intn(n+3))
		inv.Uses = append(inv.Uses, Use{ImageID: target, Kind: kinds[r.Intn(len(kinds))], Resource: fmt.Sprintf("res-%d", i)})
	}
	policy := PrunePolicy{
		KeepLatest:      r.Intn(6),
		OlderThan:       time.Duration(r.Intn(4)) * 30 * 24 * time.Hour,
		KeepTag:         "golden:keep",
		DeleteSnapshots: r.Intn(4) != 0,
	}
	switch r.Intn(4) {
	case 0:
		policy.NamePattern = "golden-*"
	case 1:
		policy.MatchTags = map[string]string{"Pipeline": "golden"}
	case 2:
		policy.NamePattern, policy.MatchTags = "golden-a-*", map[string]string{"Pipeline": "gol*"}
	case 3: // no selector: nothing may be deleted
	}
	return reflect.ValueOf(fleet{Inv: inv, Policy: policy})
}

var quickConfig = &quick.Config{MaxCount: 2000, Rand: rand.New(rand.NewSource(20260601))}

// TestPlanNeverDeletesProtectedImages: whatever the fleet, no deleted image is in use, foreign,
// deregistration-protected, keep-tagged, pinned, unselected, not in a final state, among the newest
// N or younger than D.
func TestPlanNeverDeletesProtectedImages(t *testing.T) {
	check := func(f fleet) bool {
		plan := Plan(f.Inv, f.Policy, now)
		used := map[string]bool{}
		for _, u := range f.Inv.Uses {
			used[u.ImageID] = true
		}
		byID := map[string]Image{}
		for _, img := range f.Inv.Images {
			byID[img.ID] = img
		}
		for _, d := range plan.Images {
			if d.Action != Delete {
				continue
			}
			img := byID[d.ImageID]
			why := ""
			switch {
			case used[img.ID]:
				why = "in use"
			case img.OwnerID != self:
				why = "foreign"
			case img.DeregistrationProtected:
				why = "protected"
			case img.Tags["golden:keep"] != "":
				why = "keep-tagged"
			case f.Inv.Pinned[img.ID] != "":
				why = "pinned"
			case !f.Policy.Selects(img):
				why = "not selected"
			case img.State != "available" && img.State != "disabled":
				why = "state " + img.State
			case d.Rank > 0 && d.Rank <= f.Policy.KeepLatest:
				why = "among the newest"
			case f.Policy.OlderThan > 0 && now.Sub(img.CreationDate) < f.Policy.OlderThan:
				why = "young"
			}
			if why != "" {
				t.Logf("deleted %s although %s (policy %s)", img.ID, why, f.Policy)
				return false
			}
		}
		return true
	}
	if err := quick.Check(check, quickConfig); err != nil {
		t.Error(err)
	}
}

// TestPlanDeletesWhatNothingProtects: the plan is not trivially "keep everything": a selected image
// with no reason to stay is deleted, and the newest N available ones stay.
func TestPlanDeletesWhatNothingProtects(t *testing.T) {
	check := func(f fleet) bool {
		plan := Plan(f.Inv, f.Policy, now)
		for _, d := range plan.Images {
			if (d.Action == Delete) != (len(d.Reasons) == 1 && d.Reasons[0].Code == ReasonExpired) {
				t.Logf("%s: action %s with reasons %+v", d.ImageID, d.Action, d.Reasons)
				return false
			}
		}
		kept := 0
		for _, d := range plan.Images {
			if d.State == "available" && d.Action == Keep {
				kept++
			}
			if d.Rank > 0 && d.Rank <= f.Policy.KeepLatest && d.Action != Keep {
				return false
			}
		}
		available := 0
		for _, img := range f.Inv.Images {
			if f.Policy.Selects(img) && img.State == "available" {
				available++
			}
		}
		return kept >= min(available, f.Policy.KeepLatest)
	}
	if err := quick.Check(check, quickConfig); err != nil {
		t.Error(err)
	}
}

// TestPlanSnapshotSafety: a deleted snapshot backs only deleted images, and none is deleted when
// delete_snapshots is off; the reclaimed GiB add up.
func TestPlanSnapshotSafety(t *testing.T) {
	check := func(f fleet) bool {
		plan := Plan(f.Inv, f.Policy, now)
		deletedImages := map[string]bool{}
		for _, id := range plan.ImagesToDelete() {
			deletedImages[id] = true
		}
		deletedSnaps := map[string]bool{}
		for _, id := range plan.SnapshotsToDelete() {
			deletedSnaps[id] = true
		}
		if !f.Policy.DeleteSnapshots && len(deletedSnaps) > 0 {
			return false
		}
		for _, img := range f.Inv.Images {
			for _, s := range img.Snapshots {
				if deletedSnaps[s.ID] && !deletedImages[img.ID] {
					t.Logf("snapshot %s deleted but image %s (kept) uses it", s.ID, img.ID)
					return false
				}
			}
		}
		var sum int64
		for _, s := range plan.Snapshots {
			if s.Action == Delete {
				sum += s.SizeGiB
			}
		}
		return sum == plan.ReclaimedGiB
	}
	if err := quick.Check(check, quickConfig); err != nil {
		t.Error(err)
	}
}

// TestPlanIsDeterministic: shuffling the inventory changes nothing in the plan.
func TestPlanIsDeterministic(t *testing.T) {
	shuffle := rand.New(rand.NewSource(7))
	check := func(f fleet) bool {
		want := Plan(f.Inv, f.Policy, now)
		inv := f.Inv
		inv.Images = append([]Image(nil), inv.Images...)
		inv.Uses = append([]Use(nil), inv.Uses...)
		shuffle.Shuffle(len(inv.Images), func(i, j int) { inv.Images[i], inv.Images[j] = inv.Images[j], inv.Images[i] })
		shuffle.Shuffle(len(inv.Uses), func(i, j int) { inv.Uses[i], inv.Uses[j] = inv.Uses[j], inv.Uses[i] })
		return reflect.DeepEqual(want, Plan(inv, f.Policy, now))
	}
	if err := quick.Check(check, quickConfig); err != nil {
		t.Error(err)
	}
}

// GoString keeps quick's failure message short; the failing check logs the image at fault.
func (f fleet) GoString() string {
	return fmt.Sprintf("fleet{%d images, %d uses, %d pinned, policy %s}", len(f.Inv.Images), len(f.Inv.Uses), len(f.Inv.Pinned), f.Policy)
}
