// Package ebs benchmarks golden-ebs beside the official amazon-ebs builder (packer-plugin-amazon,
// built from the Go module proxy by scripts/tools.sh): the same template (a Debian 12 source image,
// one shell provisioner, an AMI) built by each against its own simulator booting the instance as a
// lab machine, the two alternating which goes first. packer's output is read while it runs, and
// the build is split into the same steps for both builders by the lines they print when a step
// starts. Run it with `scripts/bench.sh ebs`.
package ebs

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

var suite = benchrec.NewSuite("ebs")

func TestMain(m *testing.M) { os.Exit(benchrec.Main(suite, func() int { return lab.Main(m) })) }

const (
	group  = "golden-ebs beside amazon-ebs on a lab machine (point 5)"
	system = "debian-12"
	region = lab.SimRegion
)

// step is one part of a build: it starts at the first line of packer's output holding one of
// its markers (one per builder) and lasts until the next step starts.
type step struct {
	name    string
	markers []string
}

// steps are both builders' steps in the order they run. "start-up" lasts from packer's start to
// the builder's first line (packer and the plugin processes starting, the template read).
var steps = []step{
	{"start-up", nil},
	{"checks, key pair, security group", []string{"==> golden-ebs.bench: ", "==> amazon-ebs.bench: "}},
	{"launch and boot to SSH", []string{"Launching a t3.micro instance", "Launching a source AWS instance"}},
	{"provisioner", []string{"Provisioning with shell script"}},
	{"stop and capture the AMI", []string{"Removing the temporary key from authorized_keys", "Stopping the source instance"}},
	{"terminate and clean up", []string{"Terminating instance", "Terminating the source AWS instance"}},
}

type builder struct {
	name     string
	plugins  string // required_plugins entries
	source   func(sim *ec2sim.Server, run int) string
	selector string
}

var builders = []builder{
	{
		name: "golden-ebs",
		plugins: `    golden = {
      source  = "github.com/golden-ami/golden"
      version = ">= 0.0.1"
    }`,
		source: func(_ *ec2sim.Server, run int) string {
			return fmt.Sprintf(`source "golden-ebs" "bench" {
  source_os     = %q
  instance_type = "t3.micro"
  ami_name      = "bench-golden-ebs-%d"
  ssh_timeout   = "10m"
  aws_polling {
    delay_seconds = 2
  }
}`, system, run)
		},
		selector: "source.golden-ebs.bench",
	},
	{
		name: "amazon-ebs",
		plugins: `    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.0.0"
    }`,
		source: func(sim *ec2sim.Server, run int) string {
			ami, _ := sim.Parameter(region, "/aws/service/debian/release/12/latest/amd64")
			return fmt.Sprintf(`source "amazon-ebs" "bench" {
  region                     = %q
  custom_endpoint_ec2        = %q
  skip_credential_validation = true
  source_ami                 = %q
  instance_type              = "t3.micro"
  ssh_username               = "admin"
  ami_name                   = "bench-amazon-ebs-%d"
  ssh_timeout                = "10m"
  aws_polling {
    delay_seconds = 2
  }
}`, region, sim.URL(), ami, run)
		},
		selector: "source.amazon-ebs.bench",
	},
}

func template(b builder, sim *ec2sim.Server, run int) string {
	return `packer {
  required_plugins {
` + b.plugins + `
  }
}

` + b.source(sim, run) + `

build {
  sources = ["` + b.selector + `"]

  provisioner "shell" {
    inline = ["echo built | sudo tee /etc/golden-bench"]
  }
}
`
}

// stampedLine is a line of packer's output and when the benchmark first saw it.
type stampedLine struct {
	at   time.Duration
	text string
}

// splitSteps returns each step's duration from the stamped lines of a build that took total.
// A step whose marker never appeared is missing from the result.
func splitSteps(lines []stampedLine, total time.Duration) map[string]time.Duration {
	starts := map[string]time.Duration{steps[0].name: 0}
	for _, st := range steps[1:] {
		for _, l := range lines {
			if slices.ContainsFunc(st.markers, func(m string) bool { return strings.Contains(l.text, m) }) {
				starts[st.name] = l.at
				break
			}
		}
	}
	out := map[string]time.Duration{}
	for i, st := range steps {
		start, ok := starts[st.name]
		if !ok {
			continue
		}
		end := total
		for _, next := range steps[i+1:] {
			if at, ok := starts[next.name]; ok {
				end = at
				break
			}
		}
		out[st.name] = end - start
	}
	return out
}

// build runs one `packer build` of b on a fresh simulator booting lab machines, and returns its
// wall time, its steps and the AWS calls it made.
func build(t *testing.T, host ec2sim.MachineHost, b builder, run int) (time.Duration, map[string]time.Duration, int) {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{Machines: host})
	p := lab.Packer(t)
	p.UseSim(sim)
	if b.name == "amazon-ebs" {
		p.UseAmazonPlugin(t)
	}
	file := p.WriteFile(t, "build.pkr.hcl", template(b, sim, run))
	started := time.Now()
	r := p.Start(t, "build", "-color=false", file)
	var lines []stampedLine
	seen := 0
	poll := func() {
		out := r.Output()
		for {
			nl := strings.IndexByte(out[seen:], '\n')
			if nl < 0 {
				return
			}
			lines = append(lines, stampedLine{time.Since(started), out[seen : seen+nl]})
			seen += nl + 1
		}
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				poll()
			}
		}
	}()
	res := r.Wait(t)
	total := time.Since(started)
	close(stop)
	<-stopped
	poll()
	if res.ExitCode != 0 {
		t.Fatalf("%s: packer build exited %d:\n%s", b.name, res.ExitCode, res.Output)
	}
	parts := splitSteps(lines, total)
	if len(parts) != len(steps) {
		t.Fatalf("%s: found %d of the %d steps in packer's output:\n%s", b.name, len(parts), len(steps), r.Output())
	}
	calls := 0
	for _, n := range sim.CallCounts() {
		calls += n
	}
	return total, parts, calls
}

func TestBenchmarkEBSBesideAmazonEBS(t *testing.T) {
	benchrec.Require(t)
	host := lab.Machines(t)
	lab.PrepareImages(t, host, system)
	suite.Assume("ebs: golden-ebs and amazon-ebs v%s (packer-plugin-amazon from the module proxy), each `packer build` of the same template "+
		"(the %s source image, t3.micro, one inline shell provisioner, aws_polling delay 2 s) against its own in-process simulator booting "+
		"the instance as a lab machine from the cached %s image, the two alternating which goes first; steps are split at the first line "+
		"each builder prints when the step starts (read every 20 ms)", lab.AmazonPluginVersion, system, system)
	for run := range benchrec.Runs() {
		order := slices.Clone(builders)
		if run%2 == 1 {
			slices.Reverse(order)
		}
		for _, b := range order {
			total, parts, calls := build(t, host, b, run)
			t.Logf("%s run %d: %s, steps %v, %d AWS calls", b.name, run+1, total.Round(time.Millisecond), parts, calls)
			suite.Row(group, b.name+": whole packer build", "s").AddDuration(total)
			for _, st := range steps {
				suite.Row(group, b.name+": "+st.name, "s").AddDuration(parts[st.name])
			}
			suite.Row(group, b.name+": AWS calls", "calls").Add(float64(calls))
		}
	}
	suite.Ratio(group, "golden-ebs / amazon-ebs, whole build", suite.Row(group, "golden-ebs: whole packer build", "s"),
		suite.Row(group, "amazon-ebs: whole packer build", "s"))
}
