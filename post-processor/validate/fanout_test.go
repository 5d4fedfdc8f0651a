package validate

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/internal/syncbuf"
)

// TestTargetsRunInParallel runs golden-validate on three targets (two instance types in one
// region, one in another) against the simulator: the three RunInstances calls must all be in
// flight at once, each target launches its own instance, key pair and security group, and every
// one of them is removed although no instance ever answers SSH (the port is closed). The report
// has one suite per target; the image is tagged failed in both regions. Run under -race by
// `make test`.
func TestTargetsRunInParallel(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{InstanceAddress: "127.0.0.1"})
	regions := []string{"us-east-1", "eu-west-1"}
	var refs []amiref.Ref
	for _, r := range regions {
		refs = append(refs, amiref.Ref{Region: r, ImageID: sim.AddImage(r, ec2sim.ImageSeed{Name: "golden-fanout", Tags: map[string]string{"Team": "platform"}})})
	}
	// A port nothing listens on: every target's SSH wait times out.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	// The three launches meet at a barrier inside RunInstances: one run at a time would leave
	// the first waiting alone until the deadline.
	const targets = 3
	var arrived sync.WaitGroup
	arrived.Add(targets)
	met := make(chan struct{})
	go func() { arrived.Wait(); close(met) }()
	var mu sync.Mutex
	together := 0
	for n := 1; n <= targets; n++ {
		sim.OnCall("RunInstances", n, func() {
			arrived.Done()
			select {
			case <-met:
				mu.Lock()
				together++
				mu.Unlock()
			case <-time.After(30 * time.Second):
			}
		})
	}

	dir := t.TempDir()
	var p PostProcessor
	err = p.Configure(map[string]interface{}{
		"region":              "us-east-1",
		"access_key":          "AKIDSIMULATOR",
		"secret_key":          "simulator",
		"custom_endpoint_ec2": sim.URL(),
		"ssh_username":        "admin",
		"ssh_port":            port,
		"ssh_timeout":         "3s",
		"aws_polling":         map[string]interface{}{"delay_seconds": 1},
		"target": []map[string]interface{}{
			{"region": "us-east-1", "instance_type": "t3.micro"},
			{"region": "us-east-1", "instance_type": "t3.small"},
			{"region": "eu-west-1", "instance_type": "t3.micro"},
		},
		"service":     []map[string]interface{}{{"name": "ssh"}},
		"json_report": filepath.Join(dir, "validate.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := &syncbuf.Buffer{}
	ui := &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: out, ErrorWriter: out}
	artifact := &packersdk.MockArtifact{BuilderIdValue: amiref.BuilderIDGoldenEBS, IdValue: amiref.Format(refs)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _, _, err = p.PostProcess(ctx, ui, artifact)
	if err == nil {
		t.Fatalf("no instance answered SSH, yet the validation passed:\n%s", out)
	}
	if together != targets {
		t.Errorf("%d of %d launches were in flight together", together, targets)
	}

	launched := map[string]int{}
	for _, r := range regions {
		for _, in := range sim.Instances(r) {
			launched[r+"/"+in.InstanceType]++
			if in.State != "terminated" {
				t.Errorf("instance %s in %s is %s", in.ID, r, in.State)
			}
		}
		for _, g := range sim.SecurityGroups(r) {
			if g.Tags[goldentag.Temporary] == "true" {
				t.Errorf("security group %s left in %s", g.ID, r)
			}
		}
		for _, k := range sim.KeyPairs(r) {
			t.Errorf("key pair %s left in %s", k.Name, r)
		}
	}
	for _, want := range []string{"us-east-1/t3.micro", "us-east-1/t3.small", "eu-west-1/t3.micro"} {
		if launched[want] != 1 {
			t.Errorf("%d instances launched for %s, want 1 (launched: %v)", launched[want], want, launched)
		}
		if !strings.Contains(out.String(), want+": ") {
			t.Errorf("no line of %s is prefixed with its name:\n%s", want, out)
		}
	}
	for _, ref := range refs {
		if img, _ := sim.Image(ref.Region, ref.ImageID); img.Tags[goldentag.Validation] != goldentag.ValidationFailed {
			t.Errorf("image %s tags = %v, want %s = failed", ref, img.Tags, goldentag.Validation)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "validate.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := report.ParseValidation(data)
	if err != nil {
		t.Fatal(err)
	}
	if v.Passed || len(v.Targets) != targets {
		t.Fatalf("report: passed %v, %d targets, want %d:\n%s", v.Passed, len(v.Targets), targets, data)
	}
	ids := map[string]bool{}
	for _, tr := range v.Targets {
		ids[tr.InstanceID] = true
	}
	if len(ids) != targets {
		t.Errorf("the report names the instances %v, want %d distinct ones", ids, targets)
	}
}
