// Package validate is the golden-validate post-processor: it boots the image a build produced on
// a new instance in each target (region x instance type) at once, through the same launch steps
// as golden-ebs, waits until the instance runs, passes its status checks, answers SSH and has
// finished cloud-init, runs every probe in one script over one SSH session, and gates the
// pipeline on the verdict: it tags the image `golden:validation = passed` and passes it on, or
// tags it `failed`, applies on_failure and fails the build. Whatever happens, it removes what it
// launched.
package validate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awspp"
)

// component names golden-validate in resource names and messages.
const component = "golden-validate"

// PostProcessor is golden-validate.
type PostProcessor struct {
	config Config
	// now is the clock of the validation timestamp (tests); nil means time.Now.
	now func() time.Time
}

var _ packersdk.PostProcessor = (*PostProcessor)(nil)

// ConfigSpec returns the HCL2 spec of the configuration.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	return p.config.Prepare(raws...)
}

// PostProcess validates the artifact's image and returns the artifact unchanged when every probe
// passed on every target. It keeps the input artifact (keep and forceOverride are true): the
// artifact it returns is the input.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, input packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	// The AWS credentials and every target's temporary key are masked in what this prints.
	ui, in, err := awspp.Input(component, ui, input)
	if err != nil {
		return nil, false, false, err
	}
	c := &p.config
	built, _ := in.Built(c.Region)
	targets, err := resolveTargets(c, in, built.Region)
	if err != nil {
		return nil, false, false, fmt.Errorf("%s: %w", component, err)
	}
	ui.Say(fmt.Sprintf("%s: validating %s on %d target(s): %s", component, amiref.Format(in.Images), len(targets), targetList(targets)))

	outcomes := make([]*outcome, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tui := ui
			if len(targets) > 1 {
				tui = &prefixUI{Ui: ui, prefix: t.String() + ": "}
			}
			outcomes[i] = p.runTarget(ctx, tui, t)
		}()
	}
	wg.Wait()

	v := newVerdict(outcomes, p.clock())
	r := v.Report(in.Images)
	ui.Say(r.Markdown())
	reportErr := p.writeReports(r)

	if ctx.Err() != nil {
		return nil, false, false, errors.Join(fmt.Errorf("%s: interrupted: %w", component, ctx.Err()), reportErr)
	}
	if !v.Judged() {
		// The validation could not run (AWS refused a call, say): nothing is known about the image.
		return nil, false, false, errors.Join(fmt.Errorf("%s: %s", component, v.ErrorSummary()), reportErr)
	}
	gateErr := p.gate(ctx, ui, in, v)
	if !v.Passed() {
		return nil, false, false, errors.Join(fmt.Errorf("%s: %s", component, v.ErrorSummary()), gateErr, reportErr)
	}
	if err := errors.Join(gateErr, reportErr); err != nil {
		return nil, false, false, fmt.Errorf("%s: the image passed, but: %w", component, err)
	}
	ui.Say(fmt.Sprintf("%s: %s passed on every target", component, amiref.Format(in.Images)))
	return input, true, true, nil
}

func (p *PostProcessor) clock() time.Time {
	if p.now != nil {
		return p.now().UTC()
	}
	return time.Now().UTC()
}

// target is one resolved target: where an instance is launched, and from which image.
type target struct {
	Region       string
	InstanceType string
	ImageID      string
	// Subnet options apply in the post-processor's own region; elsewhere only the target's
	// subnet_id does.
	SubnetID string
	local    bool
}

func (t target) String() string { return t.Region + "/" + t.InstanceType }

func targetList(ts []target) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}

// resolveTargets turns the target blocks (or the single default target) into launches, each from
// the artifact's image in its region.
func resolveTargets(c *Config, in amiref.Artifact, buildRegion string) ([]target, error) {
	images := map[string]string{}
	for _, r := range in.Images {
		images[r.Region] = r.ImageID
	}
	home := c.Region
	if home == "" {
		home = buildRegion
	}
	defaultType := c.InstanceTypeList()[0]
	blocks := c.Targets
	if len(blocks) == 0 {
		blocks = []Target{{}}
	}
	var out []target
	for _, b := range blocks {
		t := target{Region: b.Region, InstanceType: b.InstanceType, SubnetID: b.SubnetID}
		if t.Region == "" {
			t.Region = buildRegion
		}
		if t.InstanceType == "" {
			t.InstanceType = defaultType
		}
		t.local = t.Region == home
		id, ok := images[t.Region]
		if !ok {
			return nil, fmt.Errorf("target %s: the artifact has no image in %s (it has %s); copy it there first, e.g. with golden-lifecycle's copy_to", t, t.Region, amiref.Format(in.Images))
		}
		t.ImageID = id
		out = append(out, t)
	}
	return out, nil
}

// prefixUI prefixes the lines of one target when several run at once.
type prefixUI struct {
	packersdk.Ui
	prefix string
}

func (u *prefixUI) Say(s string)     { u.Ui.Say(u.prefix + s) }
func (u *prefixUI) Message(s string) { u.Ui.Message(u.prefix + s) }
func (u *prefixUI) Error(s string)   { u.Ui.Error(u.prefix + s) }
func (u *prefixUI) Sayf(format string, args ...any) {
	u.Say(fmt.Sprintf(format, args...))
}
func (u *prefixUI) Errorf(format string, args ...any) {
	u.Error(fmt.Sprintf(format, args...))
}
