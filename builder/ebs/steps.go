package ebs

import (
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// halt records err, reports it and stops the build, the multistep convention.
func halt(state multistep.StateBag, err error) multistep.StepAction {
	state.Put("error", err)
	state.Get("ui").(packersdk.Ui).Error(err.Error())
	return multistep.ActionHalt
}

// escapeFilterValue escapes EC2's filter wildcards so that a name matches only itself.
var filterEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`)

func escapeFilterValue(s string) string { return filterEscaper.Replace(s) }
