package lifecycle

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultPricePerGiBMonth is the price of EBS snapshot storage (standard tier, USD per GiB-month)
// used for the savings estimate when none is configured.
const DefaultPricePerGiBMonth = 0.05

// PrunePolicy says which images belong to the pipeline and how many of them to keep.
//
// An image is deleted only when all of these hold: the policy selects it, it is outside the
// KeepLatest newest selected images, it is older than OlderThan, and nothing protects it (pinned,
// foreign owner, deregistration protection, keep tag, in use, not in a final state).
type PrunePolicy struct {
	// KeepLatest is how many of the newest available selected images always stay.
	KeepLatest int `json:"keep_latest"`
	// OlderThan protects every image younger than this. Zero protects none by age.
	OlderThan time.Duration `json:"older_than"`
	// MatchTags selects images carrying every one of these tags; values may use * and ? wildcards.
	MatchTags map[string]string `json:"match_tags,omitempty"`
	// NamePattern selects images whose name matches; * and ? are wildcards.
	NamePattern string `json:"name_pattern,omitempty"`
	// KeepTag is a tag key; an image carrying it (with any value) is never deleted.
	KeepTag string `json:"keep_tag,omitempty"`
	// DeleteSnapshots deletes the snapshots of deleted images that no remaining image uses.
	DeleteSnapshots bool `json:"delete_snapshots"`
	// IncludeShared lets the prune delete images shared with other accounts and images launched
	// within RecentLaunch (LastLaunchedTime counts other accounts' launches); without it they stay.
	IncludeShared bool `json:"include_shared,omitempty"`
	// PricePerGiBMonth prices the snapshot storage reclaimed.
	PricePerGiBMonth float64 `json:"price_per_gib_month"`
}

// HasSelector reports whether the policy names the pipeline's images at all. Without a selector
// a policy would select every image of the account, so Plan deletes nothing.
func (p PrunePolicy) HasSelector() bool {
	return len(p.MatchTags) > 0 || p.NamePattern != ""
}

// Selects reports whether the image belongs to the pipeline the policy prunes.
func (p PrunePolicy) Selects(img Image) bool {
	if !p.HasSelector() {
		return false
	}
	if p.NamePattern != "" && !MatchGlob(p.NamePattern, img.Name) {
		return false
	}
	for key, want := range p.MatchTags {
		got, ok := img.Tags[key]
		if !ok || !MatchGlob(want, got) {
			return false
		}
	}
	return true
}

// String renders the policy the way the plan header prints it.
func (p PrunePolicy) String() string {
	var parts []string
	if p.NamePattern != "" {
		parts = append(parts, fmt.Sprintf("name %q", p.NamePattern))
	}
	for _, k := range slices.Sorted(maps.Keys(p.MatchTags)) {
		parts = append(parts, fmt.Sprintf("tag %s=%q", k, p.MatchTags[k]))
	}
	parts = append(parts, fmt.Sprintf("keep_latest %d", p.KeepLatest))
	if p.OlderThan > 0 {
		parts = append(parts, "older_than "+FormatAge(p.OlderThan))
	}
	if p.KeepTag != "" {
		parts = append(parts, "keep_tag "+p.KeepTag)
	}
	return strings.Join(parts, ", ")
}

// MatchGlob matches s against a pattern where * matches any run of characters (including none)
// and ? matches exactly one, the wildcards EC2 filters accept. Every other character, '/' and '['
// included, matches itself: AMI names may contain them.
func MatchGlob(pattern, s string) bool {
	p, str := []rune(pattern), []rune(s)
	// Iterative matching with backtracking to the last star: linear in practice, no recursion.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// ParseAge reads a duration written either the Go way ("720h", "90m", "1h30m") or as whole days
// ("90d"), which is how retention is usually stated.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a whole number of days (like \"90d\") nor a duration (like \"720h\")", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (like \"720h\" or \"90d\")", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// FormatAge renders a duration in days when it is a whole number of them, the Go way otherwise.
func FormatAge(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// DefaultRecentLaunch is how recent a launch keeps an image when the policy has no OlderThan.
const DefaultRecentLaunch = 30 * 24 * time.Hour

// RecentLaunch is how recent a launch (LastLaunchedTime) keeps an image: OlderThan, else
// DefaultRecentLaunch.
func (p PrunePolicy) RecentLaunch() time.Duration {
	if p.OlderThan > 0 {
		return p.OlderThan
	}
	return DefaultRecentLaunch
}
