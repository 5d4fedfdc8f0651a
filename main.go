// Command packer-plugin-golden is the Packer plugin binary that serves the golden-* components.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"

	"github.com/golden-ami/packer-plugin-golden/builder/ebs"
	"github.com/golden-ami/packer-plugin-golden/datasource/ami"
	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
	"github.com/golden-ami/packer-plugin-golden/post-processor/lifecycle"
	"github.com/golden-ami/packer-plugin-golden/post-processor/validate"
	"github.com/golden-ami/packer-plugin-golden/provisioner/harden"
	"github.com/golden-ami/packer-plugin-golden/version"
)

func main() {
	// What the components log is masked like what they print: AWS credentials and temporary keys.
	secretfilter.Log(os.Stderr)
	pps := plugin.NewSet()
	// Components register here under their HCL names (prefix "golden-" comes from the source address).
	pps.RegisterBuilder("ebs", new(ebs.Builder))
	pps.RegisterDatasource("ami", new(ami.Datasource))
	pps.RegisterProvisioner("harden", new(harden.Provisioner))
	pps.RegisterPostProcessor("lifecycle", new(lifecycle.PostProcessor))
	pps.RegisterPostProcessor("validate", new(validate.PostProcessor))
	pps.SetVersion(version.PluginVersion)
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}
