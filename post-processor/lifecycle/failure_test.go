package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// destroyedInput is an EC2 builder's artifact whose Destroy does what packer-plugin-amazon's
// does: deregister every AMI of the artifact and delete its snapshots. Packer's core calls it when
// a post-processor fails.
type destroyedInput struct {
	*testArtifact
	destroyed bool
}

func (a *destroyedInput) Destroy() error {
	a.destroyed = true
	refs, err := amiref.Parse(a.Id())
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range refs {
		cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(ref.Region))
		if err != nil {
			return err
		}
		client := ec2.NewFromConfig(cfg)
		out, err := client.DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{ref.ImageID}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, img := range out.Images {
			if _, err := client.DeregisterImage(context.Background(), &ec2.DeregisterImageInput{ImageId: img.ImageId}); err != nil {
				errs = append(errs, err)
				continue
			}
			for _, s := range lifecycle.SnapshotsOf(img) {
				if _, err := client.DeleteSnapshot(context.Background(), &ec2.DeleteSnapshotInput{SnapshotId: aws.String(s.ID)}); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// failureConfig is fullConfig without deregistration_protection, which would protect the input
// before anything could point at it: the failed run itself must see to it.
func failureConfig(t *testing.T, keys cmks) map[string]interface{} {
	raw := fullConfig(t, keys)
	delete(raw, "deregistration_protection")
	return raw
}

// deniedCode is the error each service answers a call the caller may not make with; none of them is
// retried by the SDK.
func deniedCode(action string) (code, message string) {
	switch action {
	case "GetCallerIdentity":
		return "AccessDenied", "not authorized to perform: sts:GetCallerIdentity"
	case "DescribeKey":
		return "AccessDeniedException", "not authorized to perform: kms:DescribeKey"
	case "GetParameters", "DescribeParameters", "PutParameter", "DeleteParameter":
		return "AccessDeniedException", "not authorized to perform: ssm:" + action
	case "DescribeAutoScalingGroups", "DescribeLaunchConfigurations":
		return "AccessDenied", "not authorized to perform: autoscaling:" + action
	}
	return "UnauthorizedOperation", "You are not authorized to perform this operation (" + action + ")."
}

// TestPostProcessFailureAtEveryCall fails each AWS call of a full run in turn, the n-th call of
// each action for every n a successful run makes, and then does what Packer does with the input
// of a failed post-processor: destroys it. Whatever failed, the state is consistent and reported:
// the input stays whenever a copy, a share or an SSM parameter points at it; every SSM parameter
// names an image that exists; every image the run made is named in the error; no partial copy is
// left; the image the build started from is never touched.
func TestPostProcessFailureAtEveryCall(t *testing.T) {
	if testing.Short() {
		t.Skip("fails every call of a full run in turn: skipped under -short")
	}
	sim := startSim(t, ec2sim.Delays{})
	f := seedFleet(t, sim)
	sim.ResetCalls()
	mustPostProcess(t, configure(t, failureConfig(t, f.keys)), amazonEBSArtifact(f.built, f.base))
	calls := sim.CallCounts()
	total := 0
	for _, n := range calls {
		total += n
	}
	t.Logf("a successful run makes %d calls: %v", total, calls)

	for _, action := range slices.Sorted(maps.Keys(calls)) {
		for n := 1; n <= calls[action]; n++ {
			t.Run(fmt.Sprintf("%s#%d", action, n), func(t *testing.T) {
				failAt(t, action, n)
			})
		}
	}
}

func failAt(t *testing.T, action string, n int) {
	sim := startSim(t, ec2sim.Delays{})
	f := seedFleet(t, sim)
	raw := failureConfig(t, f.keys)
	p := configure(t, raw)
	code, message := deniedCode(action)
	sim.ResetCalls()
	sim.FailNth(action, n, code, message)
	input := &destroyedInput{testArtifact: amazonEBSArtifact(f.built, f.base)}
	ui, out := testUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, input)
	if sim.Calls(action) < n {
		t.Skipf("this run made only %d %s calls", sim.Calls(action), action)
	}
	if err == nil {
		t.Fatalf("the run succeeded although %s #%d failed:\n%s", action, n, out)
	}
	t.Logf("the run's error: %v", err)
	msg := err.Error()
	if !strings.Contains(msg, message) {
		t.Errorf("the error does not carry the failure: %v", err)
	}
	nothing := lifecycle.NothingChanged(err)
	if !nothing && !strings.Contains(msg, "images so far: ") {
		t.Errorf("the error neither says nothing was changed nor lists the images so far: %v", err)
	}
	pointers := 0
	if img, ok := sim.Image(buildRegion, f.built); ok && len(img.LaunchPermissions) > 0 {
		pointers++ // shared
	}
	// Packer's core destroys the input of a failed post-processor.
	destroyErr := input.Destroy()
	_, inputExists := sim.Image(buildRegion, f.built)

	param := raw["ssm_parameter"].(string)
	for _, region := range append([]string{buildRegion}, copyRegions...) {
		for _, img := range sim.Images(region) {
			copiedFrom := img.Tags[lifecycle.CopiedFromTag]
			if copiedFrom == "" {
				continue
			}
			if img.State != "available" {
				t.Errorf("%s: the copy %s is %s", region, img.ID, img.State)
			}
			if copiedFrom == buildRegion+":"+f.built {
				pointers++
			}
			if !strings.Contains(msg, region+":"+img.ID) {
				t.Errorf("the error does not name the copy %s:%s: %v", region, img.ID, err)
			}
			if nothing {
				t.Errorf("the error says nothing was changed, but %s:%s was copied", region, img.ID)
			}
		}
		if v, ok := sim.Parameter(region, param); ok {
			if nothing {
				t.Errorf("the error says nothing was changed, but %s was published in %s", param, region)
			}
			if v == f.built {
				pointers++
			}
			if _, exists := sim.Image(region, v); !exists {
				t.Errorf("%s: SSM parameter %s names %s, which does not exist (input destroyed: %v)", region, param, v, destroyErr)
			}
		}
		for _, name := range []string{"/golden/prod", "/golden/pinned"} {
			if v, ok := sim.Parameter(region, name); ok {
				if _, exists := sim.Image(region, v); !exists {
					t.Errorf("%s: SSM parameter %s names %s, which does not exist", region, name, v)
				}
			}
		}
	}
	if pointers > 0 && !inputExists {
		t.Errorf("%d copies or parameters point at %s, which Packer's cleanup deleted:\n%s", pointers, f.built, out)
	}
	if !inputExists && !strings.Contains(out.String(), "Packer now deletes the build's image") {
		t.Errorf("the input was deleted without a warning:\n%s", out)
	}
	if _, ok := sim.Image(buildRegion, f.base); !ok {
		t.Errorf("the image the build started from (%s) is gone", f.base)
	}
}

// TestPostProcessFailureProtectionRefused: when the input cannot be protected either, the SSM
// parameter the run pointed at it is put back (here: deleted, it did not exist), so that Packer's
// deletion of the input leaves no parameter naming an image that is gone.
func TestPostProcessFailureProtectionRefused(t *testing.T) {
	sim := startSim(t, ec2sim.Delays{})
	f := seedFleet(t, sim)
	raw := failureConfig(t, f.keys)
	p := configure(t, raw)
	sim.FailNth("PutParameter", 2, "AccessDeniedException", "not authorized to perform: ssm:PutParameter")
	sim.FailNth("EnableImageDeregistrationProtection", 1, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	input := &destroyedInput{testArtifact: amazonEBSArtifact(f.built, f.base)}
	ui, out := testUI()
	_, _, _, err := p.PostProcess(context.Background(), ui, input)
	if err == nil {
		t.Fatalf("the run succeeded:\n%s", out)
	}
	param := raw["ssm_parameter"].(string)
	for _, want := range []string{"protecting " + buildRegion + ":" + f.built + " from deregistration", "SSM parameter " + param + " in " + buildRegion + " deleted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	if v, ok := sim.Parameter(buildRegion, param); ok {
		t.Errorf("SSM parameter %s in %s still names %s", param, buildRegion, v)
	}
	if err := input.Destroy(); err != nil {
		t.Fatalf("Packer's cleanup of the input failed: %v", err)
	}
	for _, region := range copyRegions {
		if v, ok := sim.Parameter(region, param); ok {
			if _, exists := sim.Image(region, v); !exists {
				t.Errorf("%s: SSM parameter %s names %s, which does not exist", region, param, v)
			}
		}
	}
}
