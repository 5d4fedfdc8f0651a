// Package awspp is what the AWS post-processors (golden-validate, golden-lifecycle) do alike:
// decode their options as Packer hands them over, collect every problem Prepare finds, and take
// in the EC2 image artifact they work on.
package awspp

import (
	"fmt"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
)

// Decode decodes raws (the block's options and Packer's own) into cfg, interpolating the
// template's functions with ictx. component names the post-processor in decoding errors.
func Decode(component string, cfg any, ictx *interpolate.Context, raws ...any) error {
	return config.Decode(cfg, &config.DecodeOpts{
		PluginType:         component,
		Interpolate:        true,
		InterpolateContext: ictx,
	}, raws...)
}

// Errors collects Prepare's problems, so that `packer validate` reports all of them at once.
type Errors struct {
	errs *packersdk.MultiError
}

// Add records errs; nil ones are skipped.
func (e *Errors) Add(errs ...error) {
	for _, err := range errs {
		if err != nil {
			e.errs = packersdk.MultiErrorAppend(e.errs, err)
		}
	}
}

// Err is every recorded problem as one error, or nil when there is none.
func (e *Errors) Err() error {
	if e.errs == nil || len(e.errs.Errors) == 0 {
		return nil
	}
	return e.errs
}

// Input reads the images of the artifact a post-processor received and returns ui with the
// registered secrets masked in what it prints. An artifact without EC2 images is an error naming
// component.
func Input(component string, ui packersdk.Ui, artifact packersdk.Artifact) (packersdk.Ui, amiref.Artifact, error) {
	in, err := amiref.Read(artifact)
	if err != nil {
		return nil, amiref.Artifact{}, fmt.Errorf("%s: %w", component, err)
	}
	return secretfilter.Ui(ui), in, nil
}
