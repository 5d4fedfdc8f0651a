// Package plugin benchmarks what installing and using this plugin costs packer itself: `packer
// validate` and `packer build` of a trivial template (packer's null builder, no communicator) with
// no plugin installed, with this plugin installed but not used, and with the golden-ami data source
// in the template (the plugin binary started, one DescribeImages to the in-process simulator). The
// three alternate run after run. Run it with
// `scripts/bench.sh plugin`.
package plugin

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

var suite = benchrec.NewSuite("plugin")

func TestMain(m *testing.M) { os.Exit(benchrec.Main(suite, func() int { return lab.Main(m) })) }

const trivial = `source "null" "trivial" {
  communicator = "none"
}

build {
  sources = ["source.null.trivial"]
}
`

const withDataSource = `packer {
  required_plugins {
    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }
  }
}

data "golden-ami" "base" {
  name = "golden-bench-*"
}

source "null" "trivial" {
  communicator = "none"
}

build {
  sources = ["source.null.trivial"]
}
`

const group = "plugin overhead (point 6)"

func TestBenchmarkPluginOverhead(t *testing.T) {
	benchrec.Require(t)
	suite.Assume("plugin: packer's null builder with communicator none; no plugin = an empty PACKER_PLUGIN_PATH; installed = this plugin " +
		"installed by `packer plugins install --path`, the template not naming it; used = the template requires it and reads the golden-ami " +
		"data source (one image in the in-process simulator)")
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	sim.AddImage(lab.SimRegion, ec2sim.ImageSeed{Name: "golden-bench-1"})
	installed := lab.Packer(t)
	installed.UseSim(sim)
	none := lab.Packer(t)
	none.Setenv("PACKER_PLUGIN_PATH", filepath.Join(none.Dir, "no-plugins"))
	cases := []struct {
		name     string
		p        *lab.PackerEnv
		template string
	}{
		{"no plugin", none, none.WriteFile(t, "trivial.pkr.hcl", trivial)},
		{"plugin installed, unused", installed, installed.WriteFile(t, "trivial.pkr.hcl", trivial)},
		{"golden-ami data source used", installed, installed.WriteFile(t, "datasource.pkr.hcl", withDataSource)},
	}
	for range benchrec.Runs() {
		for _, cmd := range []string{"validate", "build"} {
			for _, c := range cases {
				started := time.Now()
				res := c.p.Run(t, cmd, c.template)
				took := time.Since(started)
				if res.ExitCode != 0 {
					t.Fatalf("%s, packer %s:\n%s", c.name, cmd, res.Output)
				}
				suite.Row(group, fmt.Sprintf("packer %s, %s", cmd, c.name), "s").AddDuration(took)
			}
		}
	}
	for _, cmd := range []string{"validate", "build"} {
		base := suite.Row(group, fmt.Sprintf("packer %s, %s", cmd, cases[0].name), "s")
		for _, c := range cases[1:] {
			row := suite.Row(group, fmt.Sprintf("packer %s, %s", cmd, c.name), "s")
			over := suite.Row(group, fmt.Sprintf("packer %s, %s: over no plugin", cmd, c.name), "ms")
			for i := range min(len(row.Values), len(base.Values)) {
				over.Add((row.Values[i] - base.Values[i]) * 1000)
			}
		}
	}
}
