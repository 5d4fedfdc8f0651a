package awspp

import (
	"errors"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
)

// TestErrors: no problem is no error; every problem is reported, in order, nil ones skipped.
func TestErrors(t *testing.T) {
	var none Errors
	none.Add(nil)
	if err := none.Err(); err != nil {
		t.Fatalf("no problem gave %v", err)
	}
	var errs Errors
	errs.Add(errors.New("region: required"), nil)
	errs.Add(errors.New(`on_failure: "x" is not one of keep`))
	err := errs.Err()
	var multi *packersdk.MultiError
	if !errors.As(err, &multi) || len(multi.Errors) != 2 {
		t.Fatalf("Err() = %#v, want a MultiError of 2", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "region: required") || strings.Index(msg, "region") > strings.Index(msg, "on_failure") {
		t.Errorf("Err() = %q", msg)
	}
}

// TestDecode: options decode into the struct the component declares, template functions are
// interpolated, and an unknown option is an error.
func TestDecode(t *testing.T) {
	var cfg struct {
		Region string `mapstructure:"region"`
		Name   string `mapstructure:"name"`
	}
	var ictx interpolate.Context
	if err := Decode("golden-test", &cfg, &ictx, map[string]interface{}{"region": "eu-west-1", "name": `{{ upper "ami" }}`}); err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.Name != "AMI" {
		t.Errorf("decoded %+v", cfg)
	}
	if err := Decode("golden-test", &cfg, &ictx, map[string]interface{}{"regoin": "x"}); err == nil || !strings.Contains(err.Error(), "regoin") {
		t.Errorf("an unknown option gave %v", err)
	}
}

// TestInput: an AMI artifact is read and the returned ui masks the registered secrets; another
// builder's artifact is refused with the component named.
func TestInput(t *testing.T) {
	secretfilter.Set("AKIAAWSPPTESTSECRET")
	var out strings.Builder
	ui := &packersdk.BasicUi{Writer: &out, ErrorWriter: &out}
	art := &packersdk.MockArtifact{BuilderIdValue: amiref.BuilderIDGoldenEBS, IdValue: "us-east-1:ami-0aaaaaaaaaaaaaaa1"}
	masked, in, err := Input("golden-test", ui, art)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Images) != 1 || in.Images[0].ImageID != "ami-0aaaaaaaaaaaaaaa1" {
		t.Errorf("images %v", in.Images)
	}
	masked.Say("key AKIAAWSPPTESTSECRET")
	if strings.Contains(out.String(), "AKIAAWSPPTESTSECRET") {
		t.Errorf("the secret was printed: %q", out.String())
	}
	_, _, err = Input("golden-test", ui, &packersdk.MockArtifact{BuilderIdValue: "packer.docker", IdValue: "sha256:abc"})
	if err == nil || !strings.HasPrefix(err.Error(), "golden-test: ") || !strings.Contains(err.Error(), "packer.docker") {
		t.Errorf("a Docker artifact gave %v", err)
	}
}
