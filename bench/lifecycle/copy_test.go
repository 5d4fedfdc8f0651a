package lifecycle

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// The copy benchmark's fixed simulated copy time and the poll interval of every waiter: a copy is
// pending for copyLatency after CopyImage, whatever its size.
const (
	copyLatency = 2 * time.Second
	copyPoll    = 250 * time.Millisecond
	copyGroup   = "copy parallelism (point 4)"
)

var copyRegions = []string{"eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-2", "sa-east-1"}

type quietUI struct{}

func (quietUI) Say(string)     {}
func (quietUI) Message(string) {}

func TestBenchmarkCopy(t *testing.T) {
	benchrec.Require(t)
	const region = "us-east-1"
	suite.Assume("copy: every copy is pending %s in the simulator (CopyPending and SnapshotPending), waiters poll every %s "+
		"(backing off to 4x); golden-lifecycle is lifecycle.Executor.Run with copy_to; the seed loop is copy_ami_to_regions "+
		"in Go (bench/lifecycle/seed_test.go)", copyLatency, copyPoll)
	sim := ec2sim.StartTest(t, ec2sim.Options{Logf: func(string, ...any) {},
		Delays: ec2sim.Delays{CopyPending: copyLatency, SnapshotPending: copyLatency}})
	src := simSources(t, sim, region)
	clients := map[string]*ec2.Client{region: src.EC2.(*ec2.Client)}
	for _, r := range copyRegions {
		clients[r] = simSources(t, sim, r).EC2.(*ec2.Client)
	}
	client := func(r string) *ec2.Client { return clients[r] }
	exec := &lifecycle.Executor{UI: quietUI{}, AccountID: sim.AccountID(), PollInterval: copyPoll,
		Clients: func(_ context.Context, r string) (lifecycle.RegionClients, error) {
			return lifecycle.RegionClients{EC2: client(r)}, nil
		}}

	one := suite.Row(copyGroup, "golden-lifecycle, copy to 1 region", "s")
	five := suite.Row(copyGroup, "golden-lifecycle, copy to 5 regions", "s")
	seedOne := suite.Row(copyGroup, "seed loop + wait for each, 1 region", "s")
	seedFive := suite.Row(copyGroup, "seed loop + wait for each, 5 regions", "s")
	seedAsIs := suite.Row(copyGroup, "seed loop as written (no wait), 5 regions", "s")
	// Every copy has a source of its own: an AMI name is unique in a region.
	n := 0
	source := func() string {
		n++
		return sim.AddImage(region, ec2sim.ImageSeed{Name: fmt.Sprintf("golden-copy-%d", n), Tags: map[string]string{"Pipeline": pipeline}})
	}
	for range benchrec.Runs() {
		for _, m := range []struct {
			row     *benchrec.Row
			regions []string
		}{{one, copyRegions[:1]}, {five, copyRegions}} {
			image := source()
			started := time.Now()
			res, err := exec.Run(context.Background(), lifecycle.Job{Source: lifecycle.ImageRef{Region: region, ImageID: image}, CopyTo: m.regions})
			if err != nil {
				t.Fatal(err)
			}
			m.row.AddDuration(time.Since(started))
			checkAvailable(t, sim, res.Refs()[1:], len(m.regions))
		}
		for _, m := range []struct {
			row     *benchrec.Row
			regions []string
			wait    bool
		}{{seedOne, copyRegions[:1], true}, {seedFive, copyRegions, true}, {seedAsIs, copyRegions, false}} {
			image := source()
			started := time.Now()
			if err := seedCopy(context.Background(), client, region, image, m.regions, m.wait, copyPoll); err != nil {
				t.Fatal(err)
			}
			m.row.AddDuration(time.Since(started))
		}
	}
	seedAsIs.Note = "returns with every copy still pending"
	suite.Ratio(copyGroup, "golden-lifecycle 5 regions / 1 region", five, one).Target("<= 1.3x", 1.3, true)
	suite.Ratio(copyGroup, "seed loop + wait, 5 regions / 1 region", seedFive, seedOne)
	suite.Ratio(copyGroup, "seed loop + wait / golden-lifecycle, 5 regions", seedFive, five)
}

// checkAvailable makes sure the run made want copies and that each is available.
func checkAvailable(t *testing.T, sim *ec2sim.Server, copies []lifecycle.ImageRef, want int) {
	t.Helper()
	if len(copies) != want {
		t.Fatalf("%d copies, want %d", len(copies), want)
	}
	for _, c := range copies {
		img, ok := sim.Image(c.Region, c.ImageID)
		if !ok || img.State != "available" {
			t.Fatalf("copy %s: %+v", c, img)
		}
	}
}
