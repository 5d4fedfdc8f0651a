package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// amiFixture is the image history the golden-ami tests choose from: the seeded ids by role.
type amiFixture struct {
	older, newer, unvalidated, deprecated, foreign, elsewhere string
}

const foreignOwner = "999999999999"

// seedAMIs gives us-east-1 a history in which every rule of golden-ami changes the answer: the
// newest image of all is someone else's, the newest of ours is deprecated, the newest not
// deprecated is unvalidated, so only a correct selection lands on "newer".
func seedAMIs(sim *ec2sim.Server) amiFixture {
	now := time.Now().UTC()
	day := 24 * time.Hour
	passed := map[string]string{"golden:validation": "passed", "Team": "platform"}
	return amiFixture{
		older: sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-100", CreationDate: now.Add(-30 * day), Tags: passed}),
		newer: sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-200", CreationDate: now.Add(-10 * day),
			Tags: map[string]string{"golden:validation": "passed", "Team": "platform",
				"golden:source-ami": "ami-0aaaaaaaaaaaaaaaa", "golden:harden-score": "91.3"}}),
		unvalidated: sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-300", CreationDate: now.Add(-5 * day),
			Tags: map[string]string{"Team": "platform"}}),
		deprecated: sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-400", CreationDate: now.Add(-3 * day),
			Tags: passed, DeprecationTime: now.Add(-day)}),
		foreign: sim.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-500", CreationDate: now.Add(-day),
			OwnerID: foreignOwner, Public: true, Tags: passed}),
		elsewhere: sim.AddImage("eu-west-1", ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-900", CreationDate: now, Tags: passed}),
	}
}

// amiTemplate is a complete template: the golden-ami data source with the given arguments, and a
// null build whose shell-local step prints what the data source returned.
func amiTemplate(args string) string {
	return fmt.Sprintf(`
data "golden-ami" "base" {
%s
}

source "null" "print" {
  communicator = "none"
}

build {
  sources = ["source.null.print"]

  provisioner "shell-local" {
    inline = [
      "echo picked=${data.golden-ami.base.id}",
      "echo source=${data.golden-ami.base.source_ami} score=${data.golden-ami.base.compliance_score} validation=${lookup(data.golden-ami.base.tags, "golden:validation", "none")}",
    ]
  }
}
`, args)
}

// flat collapses runs of whitespace, so messages packer wraps still compare as one line.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestDatasourceAMI(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	ids := seedAMIs(sim)
	sim.PutParameter("us-east-1", "/golden/ubuntu-22.04/latest", ids.older, "aws:ec2:image")

	p := lab.Packer(t)
	p.UseSim(sim)

	picks := []struct {
		name string
		args string
		want string
		also string // more expected output
	}{
		{
			name: "newest validated",
			args: `name = "golden-ubuntu-22.04-*"
require_validated = true`,
			want: ids.newer,
			also: "source=ami-0aaaaaaaaaaaaaaaa score=91.3 validation=passed",
		},
		{name: "newest of mine without validation", args: `name = "golden-ubuntu-22.04-*"`, want: ids.unvalidated, also: "validation=none"},
		{name: "deprecated on request", args: `name = "golden-ubuntu-22.04-*"
include_deprecated = true`, want: ids.deprecated},
		{name: "another owner on request", args: `name = "golden-ubuntu-22.04-*"
owners = ["` + foreignOwner + `"]`, want: ids.foreign},
		{name: "by tags and name order", args: `tags = { Team = "platform" }
sort_by = "name"
require_validated = true`, want: ids.newer},
		{name: "explicit region", args: `region = "eu-west-1"
name = "golden-ubuntu-22.04-*"`, want: ids.elsewhere},
		{name: "ssm parameter", args: `ssm_parameter = "/golden/ubuntu-22.04/latest"`, want: ids.older},
	}
	for i, tt := range picks {
		t.Run(tt.name, func(t *testing.T) {
			file := p.WriteFile(t, fmt.Sprintf("pick-%d.pkr.hcl", i), amiTemplate(tt.args))
			res := p.Run(t, "build", "-color=false", file)
			if res.ExitCode != 0 {
				t.Fatalf("packer build exited %d:\n%s", res.ExitCode, res.Output)
			}
			if !strings.Contains(res.Output, "picked="+tt.want+"\n") {
				t.Errorf("want picked=%s in the output:\n%s", tt.want, res.Output)
			}
			if tt.also != "" && !strings.Contains(res.Output, tt.also) {
				t.Errorf("want %q in the output:\n%s", tt.also, res.Output)
			}
		})
	}

	t.Run("zero matches fails the build", func(t *testing.T) {
		file := p.WriteFile(t, "zero.pkr.hcl", amiTemplate(`name = "golden-debian-12-*"
architecture = "arm64"`))
		res := p.Run(t, "build", "-color=false", file)
		if res.ExitCode == 0 {
			t.Fatalf("packer build succeeded, want a failure:\n%s", res.Output)
		}
		want := `no AMI in us-east-1 matches owners ["self"], name "golden-debian-12-*", architecture "arm64", not deprecated, state available`
		if !strings.Contains(flat(res.Output), want) {
			t.Errorf("want %q in the output:\n%s", want, res.Output)
		}
		if strings.Contains(res.Output, "picked=") {
			t.Errorf("the build ran its provisioner despite the failed data source:\n%s", res.Output)
		}
	})

	t.Run("credentials stay out of the debug log", func(t *testing.T) {
		const secret, token = "e2e-secret-never-logged", "e2e-token-never-logged"
		debug := lab.Packer(t)
		debug.UseSim(sim)
		debug.Setenv("PACKER_LOG", "1")
		file := debug.WriteFile(t, "keys.pkr.hcl", amiTemplate(`name = "golden-ubuntu-22.04-*"
require_validated = true
access_key = "`+lab.SimAccessKeyID+`"
secret_key = "`+secret+`"
token      = "`+token+`"`))
		res := debug.Run(t, "build", "-color=false", file)
		if res.ExitCode != 0 || !strings.Contains(res.Output, "picked="+ids.newer+"\n") {
			t.Fatalf("packer build exited %d, want picked=%s:\n%s", res.ExitCode, ids.newer, res.Output)
		}
		if !strings.Contains(res.Output, "golden-ami: picked "+ids.newer) {
			t.Errorf("the debug log lacks the plugin's own lines, so it proves nothing:\n%s", res.Output)
		}
		for _, s := range []string{secret, token} {
			if strings.Contains(res.Output, s) {
				t.Errorf("the debug log contains %q", s)
			}
		}
	})

	badInput := []struct {
		name string
		args string
		want string
	}{
		{name: "unknown sort_by", args: `name = "golden-*"
sort_by = "size"`, want: `sort_by: "size" is not "creation_date" or "name"`},
		{name: "empty owners", args: `name = "golden-*"
owners = []`, want: `owners: must name at least one owner`},
		{name: "ssm parameter with filters", args: `ssm_parameter = "/golden/x"
name = "golden-*"`, want: `ssm_parameter: cannot be combined with name`},
		{name: "no filter", args: `require_validated = true`, want: `name, tags or ssm_parameter: one is required`},
		{name: "unknown region", args: `region = "us-moon-1"
name = "golden-*"`, want: `region: unknown region "us-moon-1"`},
	}
	for i, tt := range badInput {
		t.Run("validate rejects "+tt.name, func(t *testing.T) {
			file := p.WriteFile(t, fmt.Sprintf("bad-%d.pkr.hcl", i), amiTemplate(tt.args))
			sim.ResetCalls()
			res := p.Run(t, "validate", file)
			if res.ExitCode == 0 {
				t.Fatalf("packer validate succeeded, want a failure:\n%s", res.Output)
			}
			if !strings.Contains(flat(res.Output), tt.want) {
				t.Errorf("want %q in the output:\n%s", tt.want, res.Output)
			}
			if n := sim.Calls("DescribeImages") + sim.Calls("GetParameter"); n != 0 {
				t.Errorf("validation made %d AWS calls, want none", n)
			}
		})
	}
}
