package ebs

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/launch"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
)

//go:embed clear_authorized_keys.sh
var clearAuthorizedKeysScript string

// StepClearAuthorizedKeys removes the temporary key pair's public key from the SSH user's and
// root's authorized_keys before the instance is imaged (ssh_clear_authorized_keys, on by
// default), so that nobody holding the build's key could log in to instances of the image. The
// open session stays usable. It creates nothing.
type StepClearAuthorizedKeys struct {
	Comm *communicator.Config
}

func (s *StepClearAuthorizedKeys) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	key, ok := state.GetOk(launch.StateKeyPair)
	if !ok || !s.Comm.SSHClearAuthorizedKeys || s.Comm.Type != "ssh" {
		return multistep.ActionContinue
	}
	ui := state.Get("ui").(packersdk.Ui)
	fields := strings.Fields(key.(*launch.KeyPair).AuthorizedKey)
	if len(fields) < 2 {
		return halt(state, fmt.Errorf("the temporary key %q is not an authorized_keys line", key.(*launch.KeyPair).Name))
	}
	blob := fields[1]
	ui.Say("Removing the temporary key from authorized_keys")
	runner := &remote.Runner{Comm: state.Get("communicator").(packersdk.Communicator), Sudo: s.Comm.SSHUsername != "root"}
	script := func(files string) string {
		return "sh -c " + remote.ShellQuote(clearAuthorizedKeysScript) + " clear-authorized-keys " + remote.ShellQuote(blob) + " " + files
	}
	for _, command := range []string{
		script(`"$HOME/.ssh/authorized_keys"`),
		runner.AsRoot(script("/root/.ssh/authorized_keys")),
	} {
		stdout, stderr, status, err := runner.Exec(ctx, command)
		if err != nil {
			return halt(state, fmt.Errorf("removing the temporary key from authorized_keys: %w", err))
		}
		if out := strings.TrimSpace(stdout); out != "" {
			ui.Message(out)
		}
		if status != 0 {
			return halt(state, fmt.Errorf("removing the temporary key from authorized_keys: exit %d: %s", status, strings.TrimSpace(stderr)))
		}
	}
	return multistep.ActionContinue
}

func (s *StepClearAuthorizedKeys) Cleanup(multistep.StateBag) {}
