package lifecycle

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// TestPruneKeepsSharedAndRecentlyLaunched: among old, unused images of the pipeline, one shared
// with another account, one public and one launched two days ago (EC2's LastLaunchedTime, which
// another account's launch sets too) stay unless include_shared is set; a deregistration-protected
// one stays either way, reported as such.
func TestPruneKeepsSharedAndRecentlyLaunched(t *testing.T) {
	sim := startSim(t)
	const region = "us-east-1"
	old := func(mod func(*ec2sim.ImageSeed)) string {
		seed := ec2sim.ImageSeed{Name: "golden-shared", CreationDate: time.Now().AddDate(0, 0, -90), Tags: map[string]string{"Pipeline": "shared"}}
		if mod != nil {
			mod(&seed)
		}
		return sim.AddImage(region, seed)
	}
	newest := sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-shared", CreationDate: time.Now(), Tags: map[string]string{"Pipeline": "shared"}})
	plain := old(nil)
	shared := old(func(s *ec2sim.ImageSeed) { s.SharedWith = []string{"444455556666"} })
	public := old(func(s *ec2sim.ImageSeed) { s.Public = true })
	launched := old(func(s *ec2sim.ImageSeed) { s.LastLaunchedTime = time.Now().Add(-48 * time.Hour) })
	launchedLongAgo := old(func(s *ec2sim.ImageSeed) { s.LastLaunchedTime = time.Now().AddDate(0, 0, -60) })
	protected := old(func(s *ec2sim.ImageSeed) { s.DeregistrationProtection = true })

	plan := func(includeShared bool) PrunePlan {
		policy := PrunePolicy{MatchTags: map[string]string{"Pipeline": "shared"}, KeepLatest: 1, IncludeShared: includeShared}
		src := simSources(t, sim, region)
		inv, err := Collect(context.Background(), src, policy, nil)
		if err != nil {
			t.Fatal(err)
		}
		return Plan(inv, policy, time.Now())
	}
	reason := func(p PrunePlan, id string) ReasonCode {
		for _, d := range p.Images {
			if d.ImageID == id {
				if d.Action == Delete {
					return ""
				}
				return d.Reasons[0].Code
			}
		}
		t.Fatalf("%s is not in the plan", id)
		return ""
	}

	sim.ResetCalls()
	strict := plan(false)
	for id, want := range map[string]ReasonCode{
		newest: ReasonNewest, plain: "", launchedLongAgo: "", shared: ReasonShared, public: ReasonShared,
		launched: ReasonLaunched, protected: ReasonProtected,
	} {
		if got := reason(strict, id); got != want {
			t.Errorf("without include_shared: %s kept for %q, want %q (plan %+v)", id, got, want, strict.Images)
		}
	}
	// Launch permissions are read only for the images nothing else keeps: the plain one, the one
	// launched long ago and the shared one (the public one says so in DescribeImages, the recent
	// launch keeps the other).
	if n := sim.Calls("DescribeImageAttribute"); n != 3 {
		t.Errorf("%d DescribeImageAttribute calls, want 3", n)
	}

	loose := plan(true)
	deleted := loose.ImagesToDelete()
	for _, id := range []string{plain, shared, public, launched, launchedLongAgo} {
		if !slices.Contains(deleted, id) {
			t.Errorf("with include_shared: %s is kept (plan %+v)", id, loose.Images)
		}
	}
	if got := reason(loose, protected); got != ReasonProtected {
		t.Errorf("with include_shared: the protected image is %q, want kept as %q", got, ReasonProtected)
	}
	// Planning never changes protection.
	if img, _ := sim.Image(region, protected); !img.DeregistrationProtection {
		t.Errorf("%s lost its deregistration protection", protected)
	}
}
