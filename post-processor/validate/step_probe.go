package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening/hardenrun"
	"github.com/golden-ami/packer-plugin-golden/internal/launch"
	"github.com/golden-ami/packer-plugin-golden/internal/probe"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// stepProbe runs every probe on the connected instance: the probe script (all probe blocks, the
// goss file's probes, imdsv2_enforced and no_build_leftovers in one script, one session), then
// hardening_audit over the same connection, and checks required_tags on the image. Failing probes
// do not halt the run: the verdict is the post-processor's. On a failure it keeps the console
// output for the report, and with keep_on_failure it keeps the instance and says how to reach it.
type stepProbe struct {
	Config  *Config
	Comm    *communicator.Config
	Session launch.Session
	Image   types.Image
	Client  consoleAPI
}

func (s *stepProbe) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	out := state.Get(stateOutcome).(*outcome)
	c := s.Config
	runner := &remote.Runner{Comm: state.Get("communicator").(packersdk.Communicator)}
	machine, err := hardenrun.Detect(ctx, runner)
	if err != nil {
		return haltf(state, "%w", err)
	}
	out.OS = machine.OS.String()
	ui.Say(fmt.Sprintf("Probing %s (%s) as %s", out.InstanceIDOr(state), out.OS, machine.User))

	probes := c.Probes()
	if c.NoBuildLeftovers {
		var allowed []string
		if kp, ok := state.GetOk(launch.StateKeyPair); ok {
			allowed = append(allowed, kp.(*launch.KeyPair).AuthorizedKey)
		}
		probes = append(probes, &probe.BuildLeftovers{AllowedKeys: allowed})
	}
	var checks []check
	if len(probes) > 0 {
		results, err := probe.Run(ctx, runner, probes, probe.RunOptions{
			Timeout:  c.ProbeTimeout,
			Interval: c.ProbeInterval,
			OnRetry: func(p probe.Probe, attempt int, v probe.Verdict, left time.Duration) {
				if attempt == 1 {
					ui.Message(fmt.Sprintf("%s: %s; asking again for up to %s", probe.ID(p), v.Message, left.Round(time.Second)))
				}
			},
			OnResult: func(r probe.Result) { ui.Message(resultLine(checkOf(r))) },
			OnOutput: func(stderr bool, line string) { ui.Error("probe script: " + line) },
		})
		if err != nil {
			return haltf(state, "running the probes: %w", err)
		}
		for _, r := range results {
			checks = append(checks, checkOf(r))
		}
	}
	if c.HardeningAudit {
		ch := s.hardeningAudit(ctx, ui, runner, machine)
		ui.Message(resultLine(ch))
		checks = append(checks, ch)
	}
	for _, ch := range requiredTags(c.RequiredTags, s.Image.Tags) {
		ui.Message(resultLine(ch))
		checks = append(checks, ch)
	}
	out.Checks = checks
	if len(out.Failed()) == 0 {
		return multistep.ActionContinue
	}

	out.Console = consoleOutput(s.Client, out.InstanceIDOr(state))
	if c.KeepOnFailure {
		s.keep(state, ui, out)
	}
	return multistep.ActionContinue
}

func (s *stepProbe) Cleanup(multistep.StateBag) {}

// InstanceIDOr is the instance's id from the state bag.
func (o *outcome) InstanceIDOr(state multistep.StateBag) string {
	if id, ok := state.GetOk(launch.StateInstanceID); ok {
		return id.(string)
	}
	return o.InstanceID
}

// keep marks the instance and its security group to be kept, writes the private key where the
// user can take it, and prints how to log in.
func (s *stepProbe) keep(state multistep.StateBag, ui packersdk.Ui, out *outcome) {
	host, _ := launch.SSHHost(state)
	kept := &keptInstance{InstanceID: out.InstanceIDOr(state), Address: host, User: s.Comm.SSHUsername, ExpiresAt: s.Session.ExpiresAt}
	switch {
	case len(s.Comm.SSHPrivateKey) > 0 && s.Comm.SSHPrivateKeyFile == "":
		path, err := filepath.Abs(fmt.Sprintf("%s-%s.pem", component, s.Session.BuildID))
		if err == nil {
			err = os.WriteFile(path, s.Comm.SSHPrivateKey, 0o600)
		}
		if err != nil {
			ui.Error(fmt.Sprintf("keep_on_failure: writing the private key: %v; the instance is not kept", err))
			return
		}
		kept.KeyPath = path
	case s.Comm.SSHPrivateKeyFile != "":
		kept.KeyPath = s.Comm.SSHPrivateKeyFile
	}
	state.Put(stateKeep, true)
	out.Kept = kept
	ui.Say(fmt.Sprintf("keep_on_failure: keeping instance %s for debugging: ssh -i %s -p %d %s@%s", kept.InstanceID, orUnknown(kept.KeyPath), s.Comm.Port(), kept.User, kept.Address))
	ui.Message(fmt.Sprintf("It and its security group carry golden:expires-at %s: terminate it when done, or the next run's sweep_orphans removes them after that time", kept.ExpiresAt.Format(time.RFC3339)))
}

func orUnknown(s string) string {
	if s == "" {
		return "KEY"
	}
	return s
}

// hardeningAudit runs golden-harden in audit mode with the profile and parameters the build's
// report records, on the controls that passed at build time, and judges the result against it.
func (s *stepProbe) hardeningAudit(ctx context.Context, ui packersdk.Ui, runner *remote.Runner, machine hardenrun.Target) check {
	started := time.Now()
	ch := check{Type: "hardening_audit", Subject: s.Config.HardenReportPath, Attempts: 1}
	fail := func(format string, args ...any) check {
		ch.Message = fmt.Sprintf(format, args...)
		ch.Duration = time.Since(started)
		return ch
	}
	stdout, stderr, status, err := runner.Exec(ctx, runner.AsRoot("cat "+remote.ShellQuote(s.Config.HardenReportPath)))
	if err != nil {
		return fail("reading the build's hardening report: %v", err)
	}
	if status != 0 {
		return fail("the image has no readable hardening report at %s (was it built with golden-harden?): %s", s.Config.HardenReportPath, strings.TrimSpace(stderr))
	}
	build, err := report.ParseJSON([]byte(stdout))
	if err != nil || build.Suite != "golden-harden" {
		return fail("%s is not a golden-harden report: %v", s.Config.HardenReportPath, err)
	}
	req, err := hardenrun.AuditRequest(build)
	if err != nil {
		return fail("%v", err)
	}
	if req.Only = probe.PassedAtBuild(build); len(req.Only) == 0 {
		ch.Pass, ch.Message = true, "no control passed at build time, so none is required after the boot"
		ch.Duration = time.Since(started)
		return ch
	}
	req.SSHPort = machine.BuildSSHPort(s.Comm.Port())
	outcome, err := hardenrun.Apply(ctx, runner, ui, machine, req)
	if err != nil {
		return fail("auditing the booted instance: %v", err)
	}
	v := probe.HardeningAudit(build, outcome.Report)
	ch.Pass, ch.Message, ch.Evidence = v.Pass, v.Message, v.Evidence
	ch.Duration = time.Since(started)
	return ch
}

// requiredTags checks the image's tags against required_tags: "Key" needs the key, "Key=Value"
// the value too.
func requiredTags(required []string, tags []types.Tag) []check {
	have := map[string]string{}
	for _, t := range tags {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	var out []check
	for _, req := range required {
		key, want, withValue := strings.Cut(req, "=")
		ch := check{Type: "required_tags", Subject: req, Attempts: 1}
		got, ok := have[key]
		switch {
		case !ok:
			ch.Message = fmt.Sprintf("the image has no tag %s", key)
		case withValue && got != want:
			ch.Message = fmt.Sprintf("tag %s is %q, want %q", key, got, want)
		default:
			ch.Pass, ch.Message = true, fmt.Sprintf("%s = %q", key, got)
		}
		ch.Evidence = fmt.Sprintf("%s = %q", key, got)
		out = append(out, ch)
	}
	return out
}

func checkOf(r probe.Result) check {
	return check{Type: r.Probe.Type(), Subject: r.Probe.Subject(), Pass: r.Pass, Message: r.Message,
		Evidence: r.Evidence, Attempts: r.Attempts, Duration: r.Duration}
}

func resultLine(c check) string {
	status := "PASS"
	if !c.Pass {
		status = "FAIL"
	}
	return fmt.Sprintf("%s %s: %s", status, c.ID(), c.Message)
}
