package ebs

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/packerbuilderdata"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
)

// testRegion is the region of minimal().
const testRegion = "us-east-1"

// simConfig prepares a golden-ebs configuration whose AWS calls go to sim.
func simConfig(t *testing.T, sim *ec2sim.Server, extra map[string]any) *Config {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", sim.URL())
	raw := with(map[string]any{"custom_endpoint_ec2": sim.URL(), "access_key": "AKIDSIMULATOR", "secret_key": "simulator", "communicator": "none"})
	for k, v := range extra {
		if v == nil {
			delete(raw, k)
			continue
		}
		raw[k] = v
	}
	var b Builder
	if _, _, err := b.Prepare(raw); err != nil {
		t.Fatal(err)
	}
	return &b.config
}

// runSourceStep runs StepSourceAMI against sim and returns the image it put, or the error.
func runSourceStep(t *testing.T, c *Config, now time.Time) (types.Image, error, string) {
	t.Helper()
	client, err := c.EC2Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	params, err := c.SSMClient(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	state := new(multistep.BasicStateBag)
	state.Put("ui", &packersdk.BasicUi{Writer: &out, ErrorWriter: &out})
	state.Put(launch.StateEC2, client)
	state.Put(stateSSM, params)
	step := &StepSourceAMI{Config: c, Generated: &packerbuilderdata.GeneratedData{State: state}, Now: func() time.Time { return now }}
	if step.Run(context.Background(), state) != multistep.ActionContinue {
		return types.Image{}, state.Get("error").(error), out.String()
	}
	return state.Get(launch.StateSourceImage).(types.Image), nil, out.String()
}

// TestSourceAMIFilterLeavesOutOwnDeprecatedImages: EC2 lists an owner's own deprecated images
// whatever IncludeDeprecated says, so a most_recent search of "self" must judge deprecation itself,
// as golden-ami does; a failed image is never picked either.
func TestSourceAMIFilterLeavesOutOwnDeprecatedImages(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	now := time.Now().UTC()
	day := 24 * time.Hour
	current := sim.AddImage(testRegion, ec2sim.ImageSeed{Name: "golden-base-1", CreationDate: now.Add(-10 * day)})
	deprecated := sim.AddImage(testRegion, ec2sim.ImageSeed{Name: "golden-base-2", CreationDate: now.Add(-5 * day), DeprecationTime: now.Add(-day)})
	sim.AddImage(testRegion, ec2sim.ImageSeed{Name: "golden-base-3", CreationDate: now.Add(-time.Hour), State: "failed"})
	sim.AddImage(testRegion, ec2sim.ImageSeed{Name: "other-base", CreationDate: now})

	filter := func(includeDeprecated bool) map[string]any {
		return map[string]any{"source_os": nil, "source_ami_filter": map[string]any{
			"filters": map[string]string{"name": "golden-base-*"}, "owners": []string{"self"},
			"most_recent": true, "include_deprecated": includeDeprecated,
		}}
	}
	img, err, out := runSourceStep(t, simConfig(t, sim, filter(false)), now)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := aws.ToString(img.ImageId); got != current {
		t.Errorf("picked %s, want %s (the newest image that is neither deprecated nor failed; %s is deprecated)", got, current, deprecated)
	}
	if !strings.Contains(out, "Source AMI: "+current+" (golden-base-1") {
		t.Errorf("output does not name the source AMI:\n%s", out)
	}

	img, err, out = runSourceStep(t, simConfig(t, sim, filter(true)), now)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := aws.ToString(img.ImageId); got != deprecated {
		t.Errorf("include_deprecated = true picked %s, want the deprecated %s", got, deprecated)
	}
}

// TestSourceAMIFilterErrorsNameTheSearch: no match and an ambiguous match without most_recent
// fail before anything is launched, naming the option and what was searched.
func TestSourceAMIFilterErrorsNameTheSearch(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	now := time.Now().UTC()
	a := sim.AddImage(testRegion, ec2sim.ImageSeed{Name: "golden-base-a", CreationDate: now.Add(-2 * time.Hour)})
	b := sim.AddImage(testRegion, ec2sim.ImageSeed{Name: "golden-base-b", CreationDate: now.Add(-time.Hour), DeprecationTime: now.Add(-time.Minute)})
	search := func(name string, mostRecent bool) map[string]any {
		return map[string]any{"source_os": nil, "source_ami_filter": map[string]any{
			"filters": map[string]string{"name": name}, "owners": []string{"self"}, "most_recent": mostRecent, "include_deprecated": true,
		}}
	}
	tests := []struct {
		name string
		raw  map[string]any
		want []string
	}{
		{"no match", search("nothing-*", true), []string{`source_ami_filter: no AMI in us-east-1 matches owners ["self"], filters {name = "nothing-*"}, state available`}},
		{"ambiguous", search("golden-base-*", false), []string{"source_ami_filter: 2 AMIs in us-east-1 match", "most_recent = false requires exactly one", a, b}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err, out := runSourceStep(t, simConfig(t, sim, tt.raw), now)
			if err == nil {
				t.Fatalf("no error:\n%s", out)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestSourceAMIRefusesWhatIsNotAnAMIID: the build refuses Packer's "<unknown>" placeholder, which
// Prepare lets through for `packer validate` (package unknown), when it reaches the build written
// out, and an SSM parameter that holds something other than an AMI id, before calling EC2 with it.
func TestSourceAMIRefusesWhatIsNotAnAMIID(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	sim.PutParameter(testRegion, "/team/base-ami", "ami-latest", "text")
	tests := []struct {
		name string
		raw  map[string]any
		want string
	}{
		{"placeholder", map[string]any{"source_os": nil, "source_ami": "<unknown>"}, `source_ami: "<unknown>" is not an AMI id`},
		{"parameter value", map[string]any{"source_os": nil, "source_ami_ssm_parameter": "/team/base-ami"}, `source_ami_ssm_parameter: "ami-latest" is not an AMI id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err, out := runSourceStep(t, simConfig(t, sim, tt.raw), time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error with %q, got %v\n%s", tt.want, err, out)
			}
		})
	}
}
