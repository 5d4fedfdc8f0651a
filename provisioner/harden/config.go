//go:generate packer-sdc mapstructure-to-hcl2 -type Config,Waiver
//go:generate packer-sdc struct-markdown

package harden

import (
	"fmt"
	"path"
	"regexp"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
)

// Config is the `golden-harden` provisioner block. Module options are blocks at the top level of
// it, named after the module (`ssh { ... }`, `firewall { ... }`, `sysctl { ... }`): see the
// per-module option tables.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The set of controls to run: `cis-level1-server` (every CIS Level 1 server control),
	// `cis-level2-server` (Level 1 and Level 2) or `baseline` (essential packages, UTC, SSH basics,
	// UFW, fail2ban, chrony, auditd, network sysctls, login.defs, kernel module blacklist, build
	// info). Defaults to `cis-level1-server`.
	Profile string `mapstructure:"profile"`
	// `enforce` checks every control, fixes what is not compliant and checks again; `audit` only
	// checks and changes nothing on the target. Defaults to `enforce`.
	Mode string `mapstructure:"mode"`
	// Control ids (`ssh.permit-root-login`) or module names (`auditd`) to leave out. Wins over
	// `only_controls`. Unknown names are errors.
	Skip []string `mapstructure:"skip"`
	// Run only these: a module name keeps that module's controls of the profile, a control id keeps
	// that control even when the profile does not include it. Empty (the default) runs the whole
	// profile. (Not `only`: Packer reserves `only` on every provisioner block for choosing builds.)
	Only []string `mapstructure:"only_controls"`
	// Add to the profile: a module name adds every control of that module whatever its level
	// (`include = ["auditd"]` adds auditd and its rules, Level 2 in CIS, to `cis-level1-server`),
	// a control id adds that control. `only_controls` then narrows, and `skip` wins over both.
	// Unknown names are errors.
	Include []string `mapstructure:"include"`

	hardening.Options `mapstructure:",squash"`

	// Accepts a failing control: it is reported `waived` with the justification instead of
	// `failed`, and left out of the score. Repeatable block; see the waiver fields below.
	Waivers []Waiver `mapstructure:"waiver"`

	// Local path of the JSON report (every control with its references, statuses before and after,
	// evidence, duration and the files changed). Not written when empty (the default).
	Report string `mapstructure:"report"`
	// Local path of a JUnit XML report, for CI test views. Not written when empty.
	ReportJUnit string `mapstructure:"report_junit"`
	// Local path of a Markdown summary with counts before and after. Not written when empty.
	ReportMarkdown string `mapstructure:"report_markdown"`
	// Where the JSON report is left on the image, owned by root and readable by root only (it
	// lists every weakness the run left). Defaults to `/var/log/golden/harden-report.json`
	// in enforce mode; in audit mode, which writes nothing outside `remote_dir`, it defaults to
	// `<remote_dir>/golden-harden-report.json` (set it explicitly to write it elsewhere anyway).
	RemoteReportPath string `mapstructure:"remote_report_path"`
	// The build fails (or warns, see `on_failure`) when the score is below this percentage. The
	// score is pass + fixed over the applicable controls (skipped and waived ones are left out).
	// Defaults to `100`: any failed control that is not waived fails the build.
	FailBelow *float64 `mapstructure:"fail_below"`
	// What a score below `fail_below` does: `fail` stops the build (the default), `warn` prints the
	// failures and goes on. A run that breaks (connection lost, script killed) always fails.
	OnFailure string `mapstructure:"on_failure"`
	// Directory on the target for the script and its work directory, removed at the end. Must be
	// writable by the build user. Defaults to `/tmp`.
	RemoteDir string `mapstructure:"remote_dir"`
	// The SSH port the firewall module always allows first, and fail2ban's sshd jail watches.
	// Defaults to the port the target's sshd sees the build's connection arrive on
	// (`SSH_CONNECTION`): the communicator's port, unless a port forward (Session Manager, a NAT)
	// sits between them; the communicator's port when sshd does not say.
	SSHPort int `mapstructure:"ssh_port"`
	// The user that must keep SSH and sudo access whatever the controls change (the ssh module adds
	// it to AllowUsers). Defaults to the communicator's user.
	BuildUser string `mapstructure:"build_user"`

	ctx interpolate.Context

	profile         hardening.Profile
	mode            hardening.Mode
	waivers         []hardening.Waiver
	threshold       float64
	remoteReportSet bool
}

// Waiver accepts one failing control for a while.
type Waiver struct {
	// The control id, e.g. `auditd.immutable`. Required.
	Control string `mapstructure:"control" required:"true"`
	// Why the failure is accepted; copied into every report. Required.
	Justification string `mapstructure:"justification" required:"true"`
	// Last day (`YYYY-MM-DD`, UTC) the waiver applies. After it the waiver is ignored with a
	// warning and the control counts as failed again. Empty: no expiry.
	Expires string `mapstructure:"expires"`
}

const (
	defaultRemoteDir        = "/tmp"
	defaultRemoteReportPath = "/var/log/golden/harden-report.json"
)

var userNamePattern = regexp.MustCompile(`^[a-z_][a-z0-9_.-]*[$]?$`)

// decode reads the raw configuration into c and validates it against the catalogue.
func (c *Config) decode(catalogue []hardening.Module, raws ...interface{}) error {
	err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "golden-harden",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...)
	if err != nil {
		return err
	}
	return c.prepare(catalogue)
}

// prepare applies defaults and collects every configuration error, each naming its option.
func (c *Config) prepare(catalogue []hardening.Module) error {
	var errs *packersdk.MultiError

	if c.Profile == "" {
		c.Profile = string(hardening.DefaultProfile)
	}
	if !hardening.ValidProfile(c.Profile) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("profile: unknown profile %q (known: cis-level1-server, cis-level2-server, baseline)", c.Profile))
	}
	c.profile = hardening.Profile(c.Profile)

	if c.Mode == "" {
		c.Mode = string(hardening.ModeEnforce)
	}
	switch hardening.Mode(c.Mode) {
	case hardening.ModeEnforce, hardening.ModeAudit:
	default:
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("mode: must be enforce or audit, not %q", c.Mode))
	}
	c.mode = hardening.Mode(c.Mode)

	for _, e := range hardening.CheckSelectors(catalogue, "skip", c.Skip) {
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	for _, e := range hardening.CheckSelectors(catalogue, "only_controls", c.Only) {
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	for _, e := range hardening.CheckSelectors(catalogue, "include", c.Include) {
		errs = packersdk.MultiErrorAppend(errs, e)
	}
	if errs == nil && hardening.ValidProfile(c.Profile) {
		if sel, err := hardening.Select(catalogue, hardening.Selection{Profile: c.profile, Only: c.Only, Include: c.Include, Skip: c.Skip}); err == nil && len(sel) == 0 {
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("only_controls/include/skip: together with profile %s they select no control", c.Profile))
		}
	}

	if err := c.Options.Validate(); err != nil {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			errs = packersdk.MultiErrorAppend(errs, joined.Unwrap()...)
		} else {
			errs = packersdk.MultiErrorAppend(errs, err)
		}
	}

	c.waivers = nil
	seen := map[string]bool{}
	for i, w := range c.Waivers {
		where := fmt.Sprintf("waiver %d", i+1)
		if w.Control != "" {
			where = fmt.Sprintf("waiver %q", w.Control)
		}
		switch {
		case w.Control == "":
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("%s: control is required", where))
		case seen[w.Control]:
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("%s: a second waiver for the same control", where))
		default:
			for _, e := range hardening.CheckControlIDs(catalogue, where+": control", []string{w.Control}) {
				errs = packersdk.MultiErrorAppend(errs, e)
			}
		}
		seen[w.Control] = true
		if w.Justification == "" {
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("%s: justification is required", where))
		}
		hw := hardening.Waiver{Control: w.Control, Justification: w.Justification}
		if w.Expires != "" {
			t, err := time.Parse(time.DateOnly, w.Expires)
			if err != nil {
				errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("%s: expires: %q is not a date like 2027-01-31", where, w.Expires))
			}
			hw.Expires = t
		}
		c.waivers = append(c.waivers, hw)
	}

	c.threshold = 100
	if c.FailBelow != nil {
		c.threshold = *c.FailBelow
		if c.threshold < 0 || c.threshold > 100 {
			errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("fail_below: must be between 0 and 100, not %g", c.threshold))
		}
	}
	if c.OnFailure == "" {
		c.OnFailure = "fail"
	}
	if c.OnFailure != "fail" && c.OnFailure != "warn" {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("on_failure: must be fail or warn, not %q", c.OnFailure))
	}

	if c.RemoteDir == "" {
		c.RemoteDir = defaultRemoteDir
	}
	c.RemoteDir = path.Clean(c.RemoteDir)
	if !path.IsAbs(c.RemoteDir) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("remote_dir: must be an absolute path, not %q", c.RemoteDir))
	}
	c.remoteReportSet = c.RemoteReportPath != ""
	if !c.remoteReportSet {
		c.RemoteReportPath = defaultRemoteReportPath
		if c.mode == hardening.ModeAudit {
			c.RemoteReportPath = path.Join(c.RemoteDir, "golden-harden-report.json")
		}
	}
	if !path.IsAbs(c.RemoteReportPath) || path.Clean(c.RemoteReportPath) == "/" {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("remote_report_path: must be an absolute file path, not %q", c.RemoteReportPath))
	}
	if c.SSHPort < 0 || c.SSHPort > 65535 {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("ssh_port: must be between 1 and 65535, not %d", c.SSHPort))
	}
	if c.BuildUser != "" && !userNamePattern.MatchString(c.BuildUser) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("build_user: %q is not a valid user name", c.BuildUser))
	}
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}
