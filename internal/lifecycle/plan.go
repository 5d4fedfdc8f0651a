package lifecycle

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Action is what the plan does with an image or a snapshot.
type Action string

// The two actions a plan knows.
const (
	Keep   Action = "keep"
	Delete Action = "delete"
)

// ReasonCode classifies why an image is kept or deleted; the JSON plan carries it for machines.
type ReasonCode string

// Reasons to keep an image, from the strongest, and the one reason to delete one.
const (
	ReasonPinned       ReasonCode = "pinned"
	ReasonForeignOwner ReasonCode = "foreign-owner"
	ReasonProtected    ReasonCode = "deregistration-protected"
	ReasonKeepTag      ReasonCode = "keep-tag"
	ReasonNotFinal     ReasonCode = "state"
	ReasonInUse        ReasonCode = "in-use"
	ReasonShared       ReasonCode = "shared"
	ReasonLaunched     ReasonCode = "recently-launched"
	ReasonNewest       ReasonCode = "newest"
	ReasonYoung        ReasonCode = "young"
	ReasonExpired      ReasonCode = "expired"
)

// Reason explains one decision.
type Reason struct {
	Code   ReasonCode `json:"code"`
	Detail string     `json:"detail"`
}

// ImageDecision is the plan for one selected image.
type ImageDecision struct {
	ImageID      string    `json:"image_id"`
	Name         string    `json:"name"`
	CreationDate time.Time `json:"creation_date"`
	State        string    `json:"state"`
	// Rank is the image's place among the available selected images, newest first (1 = newest);
	// 0 for images that are not available and so not ranked.
	Rank    int      `json:"rank,omitempty"`
	Action  Action   `json:"action"`
	Reasons []Reason `json:"reasons"`
	// Snapshots backs the image.
	Snapshots []Snapshot `json:"snapshots,omitempty"`
}

// SnapshotDecision is the plan for one snapshot of a deleted image.
type SnapshotDecision struct {
	SnapshotID string `json:"snapshot_id"`
	SizeGiB    int64  `json:"size_gib"`
	// ImageIDs are the deleted images the snapshot backs.
	ImageIDs []string `json:"image_ids"`
	Action   Action   `json:"action"`
	Reason   string   `json:"reason"`
}

// PrunePlan is the prune plan of one region.
type PrunePlan struct {
	Region      string    `json:"region"`
	GeneratedAt time.Time `json:"generated_at"`
	Policy      string    `json:"policy"`
	// Images lists every image the policy selects, newest first, with its decision.
	Images []ImageDecision `json:"images"`
	// Snapshots lists the snapshots of deleted images, kept or deleted.
	Snapshots []SnapshotDecision `json:"snapshots"`
	// ReclaimedGiB sums the sizes of the snapshots the plan deletes.
	ReclaimedGiB int64 `json:"reclaimed_gib"`
	// MonthlySavings prices ReclaimedGiB at the policy's price per GiB-month (an upper bound: see
	// Snapshot.SizeGiB).
	MonthlySavings float64 `json:"monthly_savings_usd"`
}

// ImagesToDelete returns the ids of the images the plan deletes, oldest first.
func (p PrunePlan) ImagesToDelete() []string {
	var ids []string
	for i := len(p.Images) - 1; i >= 0; i-- {
		if p.Images[i].Action == Delete {
			ids = append(ids, p.Images[i].ImageID)
		}
	}
	return ids
}

// SnapshotsToDelete returns the ids of the snapshots the plan deletes.
func (p PrunePlan) SnapshotsToDelete() []string {
	var ids []string
	for _, s := range p.Snapshots {
		if s.Action == Delete {
			ids = append(ids, s.SnapshotID)
		}
	}
	return ids
}

// finalStates are the image states a prune may act on. A pending image belongs to a build that is
// still running; anything else is left to the people who know why it is there.
var finalStates = map[string]bool{"available": true, "disabled": true}

// Plan decides, for every image of the inventory the policy selects, whether it is kept or
// deleted and why, and which of the deleted images' snapshots go with them.
//
// The result depends only on its arguments: the order of the inventory's slices does not matter.
func Plan(inv Inventory, policy PrunePolicy, now time.Time) PrunePlan {
	plan := PrunePlan{Region: inv.Region, GeneratedAt: now, Policy: policy.String()}

	selected := make([]Image, 0)
	for _, img := range inv.Images {
		if policy.Selects(img) {
			selected = append(selected, img)
		}
	}
	sortNewestFirst(selected)
	ranks := rankAvailable(selected)
	uses := usesByImage(inv.Uses)

	deleted := map[string]bool{}
	for _, img := range selected {
		d := ImageDecision{
			ImageID:      img.ID,
			Name:         img.Name,
			CreationDate: img.CreationDate,
			State:        img.State,
			Rank:         ranks[img.ID],
			Snapshots:    img.Snapshots,
		}
		d.Reasons = keepReasons(inv, policy, img, ranks[img.ID], uses[img.ID], now)
		if len(d.Reasons) == 0 {
			d.Action = Delete
			d.Reasons = []Reason{expiredReason(policy, img, ranks[img.ID], now)}
			deleted[img.ID] = true
		} else {
			d.Action = Keep
		}
		plan.Images = append(plan.Images, d)
	}

	plan.Snapshots = planSnapshots(inv.Images, deleted, policy.DeleteSnapshots)
	for _, s := range plan.Snapshots {
		if s.Action == Delete {
			plan.ReclaimedGiB += s.SizeGiB
		}
	}
	price := policy.PricePerGiBMonth
	if price == 0 {
		price = DefaultPricePerGiBMonth
	}
	plan.MonthlySavings = math.Round(float64(plan.ReclaimedGiB)*price*100) / 100
	return plan
}

// keepReasons lists every reason the image must stay; none means it may be deleted.
func keepReasons(inv Inventory, policy PrunePolicy, img Image, rank int, uses []Use, now time.Time) []Reason {
	var reasons []Reason
	add := func(code ReasonCode, format string, args ...any) {
		reasons = append(reasons, Reason{Code: code, Detail: fmt.Sprintf(format, args...)})
	}
	if why, ok := inv.Pinned[img.ID]; ok {
		add(ReasonPinned, "%s", why)
	}
	switch {
	case inv.AccountID == "":
		add(ReasonForeignOwner, "the account running the prune is unknown")
	case img.OwnerID != inv.AccountID:
		add(ReasonForeignOwner, "owned by %s, not %s", displayOwner(img.OwnerID), inv.AccountID)
	}
	if img.DeregistrationProtected {
		add(ReasonProtected, "deregistration protection is on")
	}
	if policy.KeepTag != "" {
		if v, ok := img.Tags[policy.KeepTag]; ok {
			add(ReasonKeepTag, "tagged %s=%q", policy.KeepTag, v)
		}
	}
	if !finalStates[img.State] {
		add(ReasonNotFinal, "state %q (only available or disabled images are pruned)", img.State)
	}
	for _, u := range uses {
		add(ReasonInUse, "in use by %s", u)
	}
	if !policy.IncludeShared {
		switch {
		case img.Public:
			add(ReasonShared, "public (include_shared is false)")
		case len(img.SharedWith) > 0:
			add(ReasonShared, "shared with %s (include_shared is false)", strings.Join(img.SharedWith, ", "))
		}
		if !img.LastLaunched.IsZero() && now.Sub(img.LastLaunched) < policy.RecentLaunch() {
			add(ReasonLaunched, "launched %s ago, perhaps by another account (include_shared is false)", formatElapsed(now.Sub(img.LastLaunched)))
		}
	}
	if rank > 0 && rank <= policy.KeepLatest {
		add(ReasonNewest, "newest %d of keep_latest %d", rank, policy.KeepLatest)
	}
	// Without older_than, age keeps nothing: not even a creation date ahead of the clock.
	if age := now.Sub(img.CreationDate); policy.OlderThan > 0 && age < policy.OlderThan {
		add(ReasonYoung, "%s old, younger than older_than %s", formatElapsed(age), FormatAge(policy.OlderThan))
	}
	return reasons
}

func expiredReason(policy PrunePolicy, img Image, rank int, now time.Time) Reason {
	var parts []string
	age := formatElapsed(now.Sub(img.CreationDate)) + " old"
	if policy.OlderThan > 0 {
		age += ", older than " + FormatAge(policy.OlderThan)
	}
	parts = append(parts, age)
	if rank > 0 {
		parts = append(parts, fmt.Sprintf("rank %d beyond keep_latest %d", rank, policy.KeepLatest))
	} else {
		parts = append(parts, fmt.Sprintf("%s, not counted in keep_latest %d", img.State, policy.KeepLatest))
	}
	parts = append(parts, "not in use")
	return Reason{Code: ReasonExpired, Detail: strings.Join(parts, ", ")}
}

// planSnapshots decides the fate of every snapshot of a deleted image: it goes only when no
// remaining image, selected or not, still refers to it.
func planSnapshots(images []Image, deleted map[string]bool, deleteSnapshots bool) []SnapshotDecision {
	type info struct {
		size      int64
		deletedBy []string
		keptBy    []string
	}
	snaps := map[string]*info{}
	for _, img := range images {
		seen := map[string]bool{}
		for _, s := range img.Snapshots {
			if s.ID == "" || seen[s.ID] {
				continue
			}
			seen[s.ID] = true
			in := snaps[s.ID]
			if in == nil {
				in = &info{}
				snaps[s.ID] = in
			}
			in.size = max(in.size, s.SizeGiB)
			if deleted[img.ID] {
				in.deletedBy = append(in.deletedBy, img.ID)
			} else {
				in.keptBy = append(in.keptBy, img.ID)
			}
		}
	}
	var out []SnapshotDecision
	for id, in := range snaps {
		if len(in.deletedBy) == 0 {
			continue
		}
		sort.Strings(in.deletedBy)
		sort.Strings(in.keptBy)
		d := SnapshotDecision{SnapshotID: id, SizeGiB: in.size, ImageIDs: in.deletedBy}
		switch {
		case len(in.keptBy) > 0:
			d.Action, d.Reason = Keep, "also backs "+strings.Join(in.keptBy, ", ")
		case !deleteSnapshots:
			d.Action, d.Reason = Keep, "delete_snapshots is false"
		default:
			d.Action, d.Reason = Delete, "no remaining image uses it"
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SnapshotID < out[j].SnapshotID })
	return out
}

// sortNewestFirst orders by creation date, newest first, then by id so ties are deterministic.
func sortNewestFirst(images []Image) {
	sort.Slice(images, func(i, j int) bool {
		a, b := images[i], images[j]
		if !a.CreationDate.Equal(b.CreationDate) {
			return a.CreationDate.After(b.CreationDate)
		}
		return a.ID < b.ID
	})
}

// rankAvailable numbers the available images, newest first. Disabled, pending or failed images
// cannot be launched by users, so they do not take a place among the images keep_latest keeps.
func rankAvailable(sorted []Image) map[string]int {
	ranks := map[string]int{}
	n := 0
	for _, img := range sorted {
		if img.State == "available" {
			n++
			ranks[img.ID] = n
		}
	}
	return ranks
}

func usesByImage(uses []Use) map[string][]Use {
	by := map[string][]Use{}
	for _, u := range uses {
		by[u.ImageID] = append(by[u.ImageID], u)
	}
	for id, list := range by {
		sort.Slice(list, func(i, j int) bool { return list[i].String() < list[j].String() })
		by[id] = dedupeUses(list)
	}
	return by
}

func dedupeUses(sorted []Use) []Use {
	out := sorted[:0]
	for i, u := range sorted {
		if i > 0 && u == sorted[i-1] {
			continue
		}
		out = append(out, u)
	}
	return out
}

func displayOwner(id string) string {
	if id == "" {
		return "an unknown account"
	}
	return id
}

// formatElapsed renders an age the way the plan table shows it: days when at least one, hours
// otherwise.
func formatElapsed(d time.Duration) string {
	if d < 0 {
		return "0h"
	}
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return fmt.Sprintf("%dh", d/time.Hour)
}
