package launch

import (
	"context"
	"fmt"
	"net"

	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
)

// StepAuthorizeCaller lets this machine's address in to the temporary security group on the SSH
// port, once the instance runs and its address (StateSSHHost) is known, when neither
// temporary_security_group_source_cidrs nor temporary_security_group_checkip_url named the
// source. The address is the local end of the route to the instance: in a VPC reached over a
// VPN or peering, and in the test lab, the address the instance sees. Behind NAT that is not
// so, and the step stops with what to set instead rather than open the port wider.
//
// The rule goes with the group, so Cleanup has nothing to do.
type StepAuthorizeCaller struct {
	Comm *communicator.Config
}

func (s *StepAuthorizeCaller) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	if _, pending := state.GetOk(stateCallerIngressPending); !pending {
		return multistep.ActionContinue
	}
	host := state.Get(StateSSHHost).(string)
	remote := net.ParseIP(host)
	if remote == nil {
		addrs, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return halt(state, fmt.Errorf("resolving the instance's address %s: %v", host, err))
		}
		remote = addrs[0]
	}
	local, err := CallerIPToward(remote.String(), s.Comm.Port())
	if err != nil {
		return halt(state, err)
	}
	if NATSuspected(local, remote) {
		return halt(state, fmt.Errorf("this machine (%s) reaches the instance's public address %s through NAT, so the address the instance sees is unknown: "+
			"set temporary_security_group_checkip_url to a service that answers with this machine's public address, "+
			"or temporary_security_group_source_cidrs, or ssh_interface = \"private_ip\" when this machine is inside the VPC", local, remote))
	}
	group := state.Get(StateTemporaryGroupID).(string)
	cidr := HostCIDR(local)
	if err := AuthorizeSSH(ctx, ec2API(state), group, s.Comm.Port(), []string{cidr}); err != nil {
		return halt(state, err)
	}
	ui(state).Message(fmt.Sprintf("Security group %s lets port %d in from %s (this machine's address toward %s)", group, s.Comm.Port(), cidr, remote))
	state.Remove(stateCallerIngressPending)
	return multistep.ActionContinue
}

func (s *StepAuthorizeCaller) Cleanup(multistep.StateBag) {}
