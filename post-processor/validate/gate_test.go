package validate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// The gate through aws-sdk-go-v2 against the simulator: the tags go on the image and every
// snapshot, and on_failure deprecates or deregisters (snapshots deleted) only a failed image.
func TestGateImage(t *testing.T) {
	const region = "us-east-1"
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	client := ec2.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(sim.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator", "")})
	ui := &packersdk.BasicUi{Reader: strings.NewReader(""), Writer: &strings.Builder{}, ErrorWriter: &strings.Builder{}}
	at := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	tags := func(result string) []types.Tag {
		return []types.Tag{{Key: aws.String(goldentag.Validation), Value: aws.String(result)},
			{Key: aws.String(goldentag.ValidatedAt), Value: aws.String(at.Format(time.RFC3339))}}
	}
	cases := []struct {
		name      string
		failed    bool
		onFailure string
	}{
		{"passed", false, OnFailureDeregister},
		{"failed keep", true, OnFailureKeep},
		{"failed deprecate", true, OnFailureDeprecate},
		{"failed deregister", true, OnFailureDeregister},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-" + strings.ReplaceAll(tc.name, " ", "-"),
				Snapshots: []ec2sim.SnapshotSeed{{}, {SizeGiB: 20}}})
			img, _ := sim.Image(region, id)
			result := goldentag.ValidationPassed
			if tc.failed {
				result = goldentag.ValidationFailed
			}
			err := gateImage(context.Background(), client, ui, amiref.Ref{Region: region, ImageID: id}, tags(result), tc.failed, tc.onFailure)
			if err != nil {
				t.Fatal(err)
			}
			after, exists := sim.Image(region, id)
			if tc.onFailure == OnFailureDeregister && tc.failed {
				if exists {
					t.Errorf("image %s still registered", id)
				}
				for _, bd := range img.BlockDevices {
					if _, ok := sim.Snapshot(region, bd.SnapshotID); ok {
						t.Errorf("snapshot %s of the deregistered image still exists", bd.SnapshotID)
					}
				}
				return
			}
			if after.Tags[goldentag.Validation] != result || after.Tags[goldentag.ValidatedAt] != "2026-12-03T15:00:00Z" {
				t.Errorf("image tags = %v", after.Tags)
			}
			for _, bd := range img.BlockDevices {
				sn, _ := sim.Snapshot(region, bd.SnapshotID)
				if sn.Tags[goldentag.Validation] != result {
					t.Errorf("snapshot %s tags = %v", sn.ID, sn.Tags)
				}
			}
			if deprecated := !after.DeprecationTime.IsZero(); deprecated != (tc.failed && tc.onFailure == OnFailureDeprecate) {
				t.Errorf("deprecation time %v", after.DeprecationTime)
			}
		})
	}
	if err := gateImage(context.Background(), client, ui, amiref.Ref{Region: region, ImageID: "ami-0123456789abcdef0"}, tags("passed"), false, OnFailureKeep); err == nil {
		t.Error("gating an image that does not exist succeeded")
	}
}

// The verdict: an image is judged failed by a failed probe or a boot that never got ready, and
// not judged at all when the run broke before an instance booted.
func TestVerdict(t *testing.T) {
	pass := check{Type: "service", Subject: "ssh", Pass: true}
	fail := check{Type: "service", Subject: "nonexistent", Message: "no unit nonexistent is installed"}
	target := target{Region: "us-east-1", InstanceType: "t3.micro"}
	cases := []struct {
		name                   string
		outcomes               []*outcome
		passed, failed, judged bool
		summary                string
	}{
		{"all pass", []*outcome{{Target: target, Checks: []check{pass}}}, true, false, true, ""},
		{"a probe fails", []*outcome{{Target: target, Checks: []check{pass, fail}}}, false, true, true,
			`validation failed on us-east-1/t3.micro: 1 of 2 probes failed: service "nonexistent" (no unit nonexistent is installed)`},
		{"no SSH", []*outcome{{Target: target, Err: errors.New("timeout waiting for SSH"), ImageFault: true}}, false, true, true,
			"validation failed on us-east-1/t3.micro: timeout waiting for SSH"},
		{"AWS refused", []*outcome{{Target: target, Err: errors.New("UnauthorizedOperation")}}, false, false, false,
			"validation failed on us-east-1/t3.micro: UnauthorizedOperation"},
		{"one of two targets fails", []*outcome{{Target: target, Checks: []check{pass}},
			{Target: target, Checks: []check{fail}}}, false, true, true, "validation failed on us-east-1/t3.micro: 1 of 1 probes failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerdict(tc.outcomes, time.Now())
			if v.Passed() != tc.passed || v.Failed() != tc.failed || v.Judged() != tc.judged {
				t.Errorf("passed=%v failed=%v judged=%v, want %v %v %v", v.Passed(), v.Failed(), v.Judged(), tc.passed, tc.failed, tc.judged)
			}
			if tc.summary != "" && !strings.Contains(v.ErrorSummary(), tc.summary) {
				t.Errorf("summary %q lacks %q", v.ErrorSummary(), tc.summary)
			}
			if r := v.Report(nil); r.Passed != tc.passed || len(r.Targets) != len(tc.outcomes) {
				t.Errorf("report: %+v", r)
			}
		})
	}
}
