package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

type quietUI struct{}

func (quietUI) Say(string)     {}
func (quietUI) Message(string) {}

// TestPruneRacingAnotherPrune: two prunes planned the same deletion; the other one deregistered
// the image first, so EC2 answers InvalidAMIID.Unavailable. That image is gone all the same: the
// prune goes on and deletes its snapshots.
func TestPruneRacingAnotherPrune(t *testing.T) {
	sim := startSimWith(t, ec2sim.Delays{DeregisteredListed: time.Minute, DeregisteredKnown: time.Minute})
	region := "us-east-1"
	old := sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-race-1", CreationDate: time.Now().Add(-90 * 24 * time.Hour),
		Tags: map[string]string{"Pipeline": "race"}, Snapshots: []ec2sim.SnapshotSeed{{SizeGiB: 8}, {SizeGiB: 20}}})
	img, _ := sim.Image(region, old)
	src := simSources(t, sim, region)
	policy := PrunePolicy{MatchTags: map[string]string{"Pipeline": "race"}, OlderThan: 24 * time.Hour, DeleteSnapshots: true}
	inv, err := Collect(context.Background(), src, policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan := Plan(inv, policy, time.Now())
	if ids := plan.ImagesToDelete(); len(ids) != 1 || ids[0] != old {
		t.Fatalf("plan deletes %v", ids)
	}

	// The other prune is faster.
	if _, err := src.EC2.(*ec2.Client).DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: aws.String(old)}); err != nil {
		t.Fatal(err)
	}
	exec := &Executor{UI: quietUI{}, Clients: func(context.Context, string) (RegionClients, error) {
		return RegionClients{EC2: src.EC2.(*ec2.Client)}, nil
	}}
	if err := exec.carryOut(context.Background(), plan); err != nil {
		t.Fatalf("the racing prune failed: %v", err)
	}
	if n := sim.Calls("DeregisterImage"); n != 2 {
		t.Fatalf("DeregisterImage called %d times, want 2 (the race did not happen)", n)
	}
	for _, bd := range img.BlockDevices {
		if _, ok := sim.Snapshot(region, bd.SnapshotID); ok {
			t.Errorf("snapshot %s of the deregistered image was kept", bd.SnapshotID)
		}
	}
	// While EC2 still lists the deregistered image, a new inventory leaves it out.
	inv, err = Collect(context.Background(), src, policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Images) != 0 {
		t.Fatalf("the inventory holds the deregistered image: %+v", inv.Images)
	}
}

// TestDeprecationTimeNeverInThePast: EC2 keeps deprecation times to the minute and refuses one not
// ahead, so a deprecate_after shorter than a minute still gives a time in the future.
func TestDeprecationTimeNeverInThePast(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 20, 30, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want time.Time
	}{
		{10 * time.Second, time.Date(2026, 3, 1, 10, 21, 0, 0, time.UTC)},
		{30 * time.Second, time.Date(2026, 3, 1, 10, 21, 0, 0, time.UTC)},
		{31 * time.Second, time.Date(2026, 3, 1, 10, 22, 0, 0, time.UTC)},
		{90 * 24 * time.Hour, time.Date(2026, 5, 30, 10, 21, 0, 0, time.UTC)},
	} {
		got := DeprecationTime(now, tc.d)
		if !got.Equal(tc.want) || !got.After(now) {
			t.Errorf("DeprecationTime(%s) = %s, want %s", tc.d, got, tc.want)
		}
	}
	if got := DeprecationTime(time.Date(2026, 3, 1, 10, 20, 0, 0, time.UTC), time.Hour); !got.Equal(time.Date(2026, 3, 1, 11, 20, 0, 0, time.UTC)) {
		t.Errorf("a whole minute moved: %s", got)
	}
}
