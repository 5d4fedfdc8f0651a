package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	pplifecycle "github.com/golden-ami/packer-plugin-golden/post-processor/lifecycle"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// lifecycleExample is the example template that sets every golden-lifecycle option.
func lifecycleExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(lab.RepoRoot(t), "example", "lifecycle.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// accessOptionsLeftOut are the options the example leaves to the environment, as a template kept
// in a repository should; the test adds them.
const accessOptionsLeftOut = `
    profile             = "golden"
    access_key          = "AKIDEXAMPLE"
    secret_key          = "example-secret"
    token               = "example-token"
    custom_endpoint_ec2 = "http://127.0.0.1:4566"
`

// TestLifecycleValidateExample: the real packer accepts a template that sets every option of
// golden-lifecycle: the example, plus the credential options it leaves to the environment. That
// it is every option is checked against the post-processor's own HCL2 spec.
func TestLifecycleValidateExample(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	anchor := "    max_retries            = 10\n"
	example := lifecycleExample(t)
	if !strings.Contains(example, anchor) {
		t.Fatalf("the example no longer contains %q", anchor)
	}
	template := strings.Replace(example, anchor, anchor+accessOptionsLeftOut, 1)

	set := lifecycleBlockOptions(t, template)
	var missing []string
	for _, option := range specOptions((&pplifecycle.PostProcessor{}).ConfigSpec(), "") {
		if !set[option] {
			missing = append(missing, option)
		}
	}
	if len(missing) > 0 {
		t.Errorf("the template leaves out %v", missing)
	}

	p := lab.Packer(t)
	path := p.WriteFile(t, "lifecycle.pkr.hcl", template)
	res := p.Run(t, "validate", path)
	if res.ExitCode != 0 || !strings.Contains(res.Output, "The configuration is valid") {
		t.Fatalf("packer validate on the example: exit %d\n%s", res.ExitCode, res.Output)
	}
}

// specOptions lists the options of an HCL2 spec: attributes and blocks by name, what a block holds
// as "block.option". The packer_* options are Packer's to set, not the user's.
func specOptions(spec hcldec.ObjectSpec, prefix string) []string {
	var out []string
	for name, s := range spec {
		if strings.HasPrefix(name, "packer_") {
			continue
		}
		out = append(out, prefix+name)
		if block, ok := s.(*hcldec.BlockSpec); ok {
			if nested, ok := block.Nested.(hcldec.ObjectSpec); ok {
				out = append(out, specOptions(nested, prefix+name+".")...)
			}
		}
	}
	return out
}

// lifecycleBlockOptions parses a template and lists what its golden-lifecycle post-processor block
// sets, named as specOptions names them.
func lifecycleBlockOptions(t *testing.T, template string) map[string]bool {
	t.Helper()
	file, diags := hclsyntax.ParseConfig([]byte(template), "lifecycle.pkr.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	set := map[string]bool{}
	var walk func(body *hclsyntax.Body, prefix string)
	walk = func(body *hclsyntax.Body, prefix string) {
		for name := range body.Attributes {
			set[prefix+name] = true
		}
		for _, b := range body.Blocks {
			set[prefix+b.Type] = true
			walk(b.Body, prefix+b.Type+".")
		}
	}
	found := false
	for _, build := range file.Body.(*hclsyntax.Body).Blocks {
		if build.Type != "build" {
			continue
		}
		for _, b := range build.Body.Blocks {
			if b.Type == "post-processor" && len(b.Labels) == 1 && b.Labels[0] == "golden-lifecycle" {
				walk(b.Body, "")
				found = true
			}
		}
	}
	if !found {
		t.Fatal(`the template has no post-processor "golden-lifecycle" block`)
	}
	return set
}

// TestLifecycleValidateRejectsBadInput: each bad value fails packer validate with a message
// naming the option.
func TestLifecycleValidateRejectsBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	example := lifecycleExample(t)
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"negative keep_latest", `keep_latest         = 5`, `keep_latest         = -1`,
			[]string{"prune.keep_latest", "must be 0 or more"}},
		{"unknown region", `copy_to        = ["us-west-2", "eu-west-1"]`, `copy_to        = ["us-west-2", "eu-west-1", "mars-north-1"]`,
			[]string{"copy_to", "unknown region", "mars-north-1"}},
		{"bad account id", `share_with          = ["444455556666"]`, `share_with          = ["4444-5555-6666"]`,
			[]string{"share_with", "4444-5555-6666", "not an AWS account id"}},
		{"bad duration", `deprecate_after = "90d"`, `deprecate_after = "three months"`,
			[]string{"deprecate_after", "three months", "not a duration"}},
		{"bad prune duration", `older_than          = "30d"`, `older_than          = "30 days"`,
			[]string{"prune.older_than"}},
		{"shared copy under the AWS-managed key", `"us-west-2" = "alias/golden-images"`, `"us-west-2" = "alias/aws/ebs"`,
			[]string{"kms_key_ids", "us-west-2", "AWS-managed key", "customer managed key"}},
		{"bad copy timeout", `copy_timeout  = "2h"`, `copy_timeout  = "-2h"`,
			[]string{"copy_timeout", "-2h"}},
		{"prune without selector", "      match_tags          = { Pipeline = \"golden-ubuntu-22.04\" }\n      name_pattern        = \"golden-ubuntu-22.04-*\"\n", "",
			[]string{"prune.match_tags or prune.name_pattern"}},
	}
	p := lab.Packer(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(example, tc.old) {
				t.Fatalf("the example no longer contains %q", tc.old)
			}
			name := strings.ReplaceAll(tc.name, " ", "-") + ".pkr.hcl"
			path := p.WriteFile(t, name, strings.Replace(example, tc.old, tc.new, 1))
			res := p.Run(t, "validate", path)
			if res.ExitCode == 0 {
				t.Fatalf("packer validate accepted it:\n%s", res.Output)
			}
			out := flat(res.Output)
			for _, w := range append([]string{`"golden-lifecycle"`}, tc.want...) {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, res.Output)
				}
			}
		})
	}
}

// TestLifecycleRefusesNonAMIArtifact: in a real build, golden-lifecycle after a builder that makes
// no AMI fails with a message saying so, and touches nothing.
func TestLifecycleRefusesNonAMIArtifact(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	p := lab.Packer(t)
	p.UseSim(sim)
	path := p.WriteFile(t, "null.pkr.hcl", `
source "null" "nothing" {
  communicator = "none"
}

build {
  sources = ["source.null.nothing"]

  post-processor "golden-lifecycle" {
    copy_to = ["us-west-2"]
  }
}
`)
	res := p.Run(t, "build", path)
	if res.ExitCode == 0 {
		t.Fatalf("packer build succeeded:\n%s", res.Output)
	}
	// "fnoeding.null" is the null builder's id.
	if out := flat(res.Output); !strings.Contains(out, `artifact of builder "fnoeding.null" is not an AMI artifact`) {
		t.Errorf("output does not say the null artifact is not an AMI:\n%s", res.Output)
	}
	for _, action := range []string{"CopyImage", "CreateTags", "DescribeImages"} {
		if n := sim.Calls(action); n != 0 {
			t.Errorf("%s called %d times", action, n)
		}
	}
}
