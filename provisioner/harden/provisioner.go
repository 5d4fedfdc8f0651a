// Package harden is the golden-harden provisioner: CIS-style hardening applied over the build's
// SSH connection in one script run, checked, fixed, re-checked and reported. The work is done by
// internal/hardening (catalogue, script) and internal/hardening/hardenrun (the run); this package
// maps the template's configuration onto them and decides whether the build goes on.
package harden

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/internal/hardening/hardenrun"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/version"
)

// Provisioner implements packersdk.Provisioner.
type Provisioner struct {
	config Config
	// catalogue is the control catalogue; nil means hardening.Modules(). Tests set their own,
	// and backupRoot ("" = hardening.DefaultBackupRoot), as they run on the machine testing.
	catalogue  []hardening.Module
	backupRoot string
}

func (p *Provisioner) modules() []hardening.Module {
	if p.catalogue != nil {
		return p.catalogue
	}
	return hardening.Modules()
}

var _ packersdk.Provisioner = (*Provisioner)(nil)

// ConfigSpec describes the HCL2 configuration.
func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Prepare decodes and validates the configuration; every error names its option.
func (p *Provisioner) Prepare(raws ...interface{}) error {
	return p.config.decode(p.modules(), raws...)
}

// Provision runs the hardening once on the connected machine.
func (p *Provisioner) Provision(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, generatedData map[string]interface{}) error {
	c := &p.config
	runner := &remote.Runner{Comm: comm}
	target, err := hardenrun.Detect(ctx, runner)
	if err != nil {
		return fmt.Errorf("golden-harden: %w", err)
	}
	if err := hardening.CheckSupported(target.OS); err != nil {
		return fmt.Errorf("golden-harden: %w", err)
	}
	if c.mode == hardening.ModeEnforce {
		selected, err := hardening.Select(p.modules(), hardening.Selection{Profile: c.profile, Only: c.Only, Include: c.Include, Skip: c.Skip, OS: &target.OS})
		if err != nil {
			return fmt.Errorf("golden-harden: %w", err)
		}
		if err := checkBuildAccess(ctx, runner, generatedData, selected, &c.Options); err != nil {
			return fmt.Errorf("golden-harden: nothing was changed: %w", err)
		}
	}
	for _, w := range c.waivers {
		if w.Expired(timeNow()) {
			ui.Error(fmt.Sprintf("golden-harden: warning: the waiver for %s expired on %s and is ignored", w.Control, w.Expires.Format("2006-01-02")))
		}
	}
	outcome, err := hardenrun.Apply(ctx, runner, ui, target, hardenrun.Request{
		Profile:    c.profile,
		Only:       c.Only,
		Include:    c.Include,
		Skip:       c.Skip,
		Mode:       c.mode,
		Options:    &c.Options,
		Waivers:    c.waivers,
		BuildUser:  c.BuildUser,
		SSHPort:    sshPort(c.SSHPort, target, generatedData),
		RemoteDir:  c.RemoteDir,
		BackupRoot: p.backupRoot,
		Threshold:  c.threshold,
		Version:    version.PluginVersion.FormattedVersion(),
		SourceAMI:  sourceAMI(generatedData),
		Catalogue:  p.modules(),
		Now:        timeNow,
	})
	if err != nil {
		return fmt.Errorf("golden-harden: %w", err)
	}
	r := outcome.Report
	ui.Say(summary(r))
	if err := p.writeReports(ctx, runner, ui, r, outcome.RunID); err != nil {
		return fmt.Errorf("golden-harden: %w", err)
	}
	if r.Passed {
		return nil
	}
	failure := failureText(r)
	if c.OnFailure == "warn" {
		ui.Error("golden-harden: warning: " + failure)
		return nil
	}
	return fmt.Errorf("golden-harden: %s", failure)
}

// writeReports writes the local reports and leaves the JSON one on the target.
func (p *Provisioner) writeReports(ctx context.Context, runner *remote.Runner, ui packersdk.Ui, r *report.Report, runID string) error {
	c := &p.config
	for _, out := range []struct {
		path   string
		format report.Format
	}{{c.Report, report.FormatJSON}, {c.ReportJUnit, report.FormatJUnit}, {c.ReportMarkdown, report.FormatMarkdown}} {
		if out.path == "" {
			continue
		}
		if err := r.WriteFile(out.path, out.format); err != nil {
			return err
		}
		ui.Say(fmt.Sprintf("golden-harden: wrote the %s report to %s", out.format, out.path))
	}
	body, err := r.JSON()
	if err != nil {
		return err
	}
	// The report names every control the image fails and how to find the weakness: root only.
	if err := runner.Put(ctx, c.RemoteReportPath, body, 0o600, path.Join(c.RemoteDir, "golden-harden-"+runID+".report.json")); err != nil {
		return fmt.Errorf("leaving the report on the target: %w", err)
	}
	ui.Say("golden-harden: report left on the target at " + c.RemoteReportPath)
	return nil
}

// sshPort is the configured port, else the one the target's sshd sees the build's connection on,
// else the communicator's.
func sshPort(configured int, target hardenrun.Target, generatedData map[string]interface{}) int {
	if configured > 0 {
		return configured
	}
	return target.BuildSSHPort(communicatorPort(generatedData))
}

// communicatorPort is the port packer's communicator connects to, 22 when it does not say.
func communicatorPort(generatedData map[string]interface{}) int {
	switch v := generatedData["Port"].(type) {
	case int:
		if v > 0 {
			return v
		}
	case int64:
		if v > 0 {
			return int(v)
		}
	case float64:
		if v > 0 {
			return int(v)
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 22
}

func summary(r *report.Report) string {
	s := fmt.Sprintf("golden-harden: %d pass, %d fixed, %d failed, %d skipped, %d waived; score %.1f%%",
		r.After.Pass, r.After.Fixed, r.After.Failed, r.After.Skipped, r.After.Waived, r.Score)
	if r.Before != nil {
		s += fmt.Sprintf(" (before the run: %d compliant, %d not compliant)", r.Before.Pass, r.Before.Failed)
	}
	if n := len(r.ChangedFiles); n > 0 {
		s += fmt.Sprintf("; %d files changed, originals kept in %s", n, r.BackupDir)
	}
	return s
}

func failureText(r *report.Report) string {
	var failed []string
	for _, it := range r.Items {
		if it.Status == report.StatusFailed {
			failed = append(failed, it.ID)
		}
	}
	s := fmt.Sprintf("score %.1f%% is below fail_below %g%%", r.Score, r.Threshold)
	if len(failed) > 0 {
		shown := failed
		if len(shown) > 10 {
			shown = shown[:10]
		}
		s += fmt.Sprintf("; failed: %s", strings.Join(shown, ", "))
		if len(failed) > len(shown) {
			s += fmt.Sprintf(" and %d more", len(failed)-len(shown))
		}
	}
	return s
}

// sourceAMI is the AMI the build started from, as EC2 builders (amazon-ebs, golden-ebs) publish it
// in the build's generated data; empty for other builders.
func sourceAMI(generatedData map[string]interface{}) string {
	if id, ok := generatedData["SourceAMI"].(string); ok && strings.HasPrefix(id, "ami-") {
		return id
	}
	return ""
}
