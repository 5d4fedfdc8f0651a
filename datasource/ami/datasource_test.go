package ami

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/golden-ami/packer-plugin-golden/internal/amiselect"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

const foreignAccount = "999999999999"

// seededSim starts the simulator with images in us-east-1 that exercise every selection rule, and
// points the SDK's default chain at it.
func seededSim(t *testing.T) (*ec2sim.Server, map[string]string) {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            sim.URL(),
		"AWS_ACCESS_KEY_ID":           "AKIDSIMULATOR",
		"AWS_SECRET_ACCESS_KEY":       "simulator",
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	now := time.Now().UTC()
	day := 24 * time.Hour
	validated := map[string]string{"golden:validation": "passed", "Team": "platform"}
	ids := map[string]string{
		"older": sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-1", CreationDate: now.Add(-30 * day), Tags: validated}),
		"newer": sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-2", CreationDate: now.Add(-10 * day),
			Tags: map[string]string{"golden:validation": "passed", "Team": "platform", "golden:source-ami": "ami-0aaaaaaaaaaaaaaaa", "golden:harden-score": "91.3"}}),
		"unvalidated": sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-3", CreationDate: now.Add(-5 * day), Tags: map[string]string{"Team": "platform"}}),
		"deprecated": sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-4", CreationDate: now.Add(-3 * day), Tags: validated,
			DeprecationTime: now.Add(-day)}),
		"foreign": sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-5", CreationDate: now.Add(-day), OwnerID: foreignAccount,
			Public: true, Tags: validated}),
		"arm":       sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-arm", CreationDate: now.Add(-20 * day), Architecture: "arm64", Tags: validated}),
		"elsewhere": sim.AddImage("eu-west-1", ec2sim.ImageSeed{Name: "golden-ubuntu-9", CreationDate: now, Tags: validated}),
	}
	return sim, ids
}

func execute(t *testing.T, raw map[string]any) (cty.Value, error) {
	t.Helper()
	var d Datasource
	if err := d.Configure(raw); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return d.Execute()
}

func TestExecuteAgainstSimulator(t *testing.T) {
	sim, ids := seededSim(t)
	sim.PutParameter("us-east-1", "/golden/ubuntu/latest", ids["newer"], "aws:ec2:image")
	sim.PutParameter("us-east-1", "/golden/ubuntu/stale", ids["deprecated"], "aws:ec2:image")
	sim.PutParameter("us-east-1", "/golden/ubuntu/unvalidated", ids["unvalidated"], "aws:ec2:image")
	sim.PutParameter("us-east-1", "/golden/ubuntu/gone", "ami-0123456789abcdef0", "aws:ec2:image")
	sim.PutParameter("us-east-1", "/golden/ubuntu/garbage", "latest", "text")

	tests := []struct {
		name    string
		raw     map[string]any
		want    string
		wantErr []string
	}{
		{name: "newest of mine, deprecated left out", raw: map[string]any{"name": "golden-ubuntu-*"}, want: "unvalidated"},
		{name: "newest validated", raw: map[string]any{"name": "golden-ubuntu-*", "require_validated": true}, want: "newer"},
		{name: "include_deprecated", raw: map[string]any{"name": "golden-ubuntu-*", "include_deprecated": true}, want: "deprecated"},
		{name: "foreign owner on request", raw: map[string]any{"name": "golden-ubuntu-*", "owners": []string{foreignAccount}}, want: "foreign"},
		{name: "architecture", raw: map[string]any{"name": "golden-ubuntu-*", "architecture": "arm64"}, want: "arm"},
		{name: "tags only", raw: map[string]any{"tags": map[string]string{"Team": "platform"}, "require_validated": true}, want: "newer"},
		{name: "other region", raw: map[string]any{"name": "golden-ubuntu-*", "region": "eu-west-1"}, want: "elsewhere"},
		{name: "sort_by name", raw: map[string]any{"name": "golden-ubuntu-*", "sort_by": "name", "require_validated": true}, want: "arm"},
		{name: "ssm parameter", raw: map[string]any{"ssm_parameter": "/golden/ubuntu/latest", "require_validated": true}, want: "newer"},
		{
			name:    "zero matches",
			raw:     map[string]any{"name": "golden-debian-*", "require_validated": true},
			wantErr: []string{`no AMI in us-east-1 matches owners ["self"], name "golden-debian-*", validated (tag golden:validation = "passed"), not deprecated, state available`},
		},
		{
			name:    "only a deprecated match",
			raw:     map[string]any{"name": "golden-ubuntu-4"},
			wantErr: []string{"no AMI in us-east-1 matches", ids["deprecated"] + ": deprecated since"},
		},
		{
			name:    "ssm parameter names a deprecated image",
			raw:     map[string]any{"ssm_parameter": "/golden/ubuntu/stale"},
			wantErr: []string{"SSM parameter /golden/ubuntu/stale in us-east-1 names " + ids["deprecated"] + ", which cannot be used: deprecated since"},
		},
		{
			name:    "ssm parameter names an unvalidated image",
			raw:     map[string]any{"ssm_parameter": "/golden/ubuntu/unvalidated", "require_validated": true},
			wantErr: []string{"cannot be used: not validated (tag golden:validation is missing)"},
		},
		{name: "ssm parameter names a missing image", raw: map[string]any{"ssm_parameter": "/golden/ubuntu/gone"}, wantErr: []string{"InvalidAMIID.NotFound"}},
		{name: "ssm parameter holds no AMI id", raw: map[string]any{"ssm_parameter": "/golden/ubuntu/garbage"}, wantErr: []string{`holds "latest", not an AMI id`}},
		{name: "ssm parameter missing", raw: map[string]any{"ssm_parameter": "/golden/none"}, wantErr: []string{"reading SSM parameter /golden/none in us-east-1", "ParameterNotFound"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.raw["region"]; !ok {
				tt.raw["region"] = "us-east-1"
			}
			got, err := execute(t, tt.raw)
			if tt.wantErr != nil {
				requireErrorContains(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id := got.GetAttr("id").AsString(); id != ids[tt.want] {
				t.Errorf("id = %s, want %s (%s)", id, ids[tt.want], tt.want)
			}
		})
	}
}

func TestExecuteOutputs(t *testing.T) {
	_, ids := seededSim(t)
	got, err := execute(t, map[string]any{"region": "us-east-1", "name": "golden-ubuntu-2"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"id": ids["newer"], "name": "golden-ubuntu-2", "owner": "123456789012", "architecture": "x86_64",
		"source_ami": "ami-0aaaaaaaaaaaaaaaa", "compliance_score": "91.3", "deprecation_time": "",
	}
	for attr, w := range want {
		if v := got.GetAttr(attr).AsString(); v != w {
			t.Errorf("%s = %q, want %q", attr, v, w)
		}
	}
	if _, err := time.Parse(time.RFC3339, got.GetAttr("creation_date").AsString()); err != nil {
		t.Errorf("creation_date: %v", err)
	}
	if tags := got.GetAttr("tags"); tags.Index(cty.StringVal("Team")).AsString() != "platform" || tags.LengthInt() != 4 {
		t.Errorf("tags = %#v", tags)
	}
}

func TestExecuteRetriesThrottling(t *testing.T) {
	sim, ids := seededSim(t)
	sim.FailNth("DescribeImages", 1, "RequestLimitExceeded", "Request limit exceeded.")
	sim.ResetCalls()
	got, err := execute(t, map[string]any{"region": "us-east-1", "name": "golden-ubuntu-*", "require_validated": true})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetAttr("id").AsString() != ids["newer"] {
		t.Errorf("id = %s, want %s", got.GetAttr("id").AsString(), ids["newer"])
	}
	if n := sim.Calls("DescribeImages"); n != 2 {
		t.Errorf("DescribeImages calls = %d, want 2 (one throttled, one retried)", n)
	}
}

func TestDescribeAllPaginates(t *testing.T) {
	sim, _ := seededSim(t)
	for i := range 7 {
		sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "paged-" + string(rune('a'+i))})
	}
	access := awsconf.AccessConfig{Region: "us-east-1"}
	access.Prepare()
	client, err := access.EC2Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetCalls()
	images, err := amiselect.DescribeAll(context.Background(), client, &ec2.DescribeImagesInput{
		Owners:     []string{"self"},
		Filters:    []types.Filter{{Name: aws.String("name"), Values: []string{"paged-*"}}},
		MaxResults: aws.Int32(5),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 7 || sim.Calls("DescribeImages") != 2 {
		t.Errorf("got %d images in %d calls, want 7 in 2", len(images), sim.Calls("DescribeImages"))
	}
}

func TestDescribeInput(t *testing.T) {
	c := Config{Name: "golden-*", Tags: map[string]string{"b": "2", "a": "1"}, Architecture: "arm64", RequireValidated: true,
		Owners: []string{"self", "111122223333"}}
	in := c.describeInput()
	var got []string
	for _, f := range in.Filters {
		got = append(got, aws.ToString(f.Name)+"="+strings.Join(f.Values, "|"))
	}
	want := []string{"state=available", "name=golden-*", "tag:a=1", "tag:b=2", "architecture=arm64", "tag:golden:validation=passed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("filters = %q\nwant %q", got, want)
	}
	if !reflect.DeepEqual(in.Owners, c.Owners) || aws.ToBool(in.IncludeDeprecated) || aws.ToInt32(in.MaxResults) != 1000 {
		t.Errorf("owners %v, include deprecated %v, max results %d", in.Owners, aws.ToBool(in.IncludeDeprecated), aws.ToInt32(in.MaxResults))
	}
}
