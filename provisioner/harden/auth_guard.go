package harden

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
)

// buildAuth is how the build's communicator logs in, read from the build's generated data: the
// SDK's StepConnect puts the communicator's configuration there for provisioners (ConnType,
// Password, SSHPrivateKey, SSHPrivateKeyFile, SSHAgentAuth).
type buildAuth struct {
	SSH      bool // the communicator is SSH
	Password bool // ssh_password is set
	Key      bool // a private key: the builder's temporary key or ssh_private_key_file
	Agent    bool // ssh_agent_auth
}

func buildAuthOf(generatedData map[string]interface{}) buildAuth {
	str := func(k string) string { s, _ := generatedData[k].(string); return s }
	agentAuth, _ := generatedData["SSHAgentAuth"].(bool)
	return buildAuth{
		SSH:      str("ConnType") == "ssh",
		Password: str("Password") != "",
		Key:      str("SSHPrivateKey") != "" || str("SSHPrivateKeyFile") != "",
		Agent:    agentAuth,
	}
}

// sshChanges is what the run will do to sshd that can refuse the build's next connection.
type sshChanges struct {
	PasswordOff  bool // ssh.password-authentication runs with password_authentication = false
	MaxAuthTries int  // ssh.max-auth-tries runs with this value; 0 when it does not run
}

func sshChangesOf(selected []hardening.Module, o *hardening.Options) sshChanges {
	var ch sshChanges
	for _, m := range selected {
		for _, c := range m.Controls {
			switch c.ID {
			case "ssh.password-authentication":
				ch.PasswordOff = !o.SSH.PasswordAuthentication
			case "ssh.max-auth-tries":
				ch.MaxAuthTries = o.SSH.MaxAuthTries
				if ch.MaxAuthTries == 0 {
					ch.MaxAuthTries = hardening.DefaultSSHMaxAuthTries
				}
			}
		}
	}
	return ch
}

// agentKeys is what the build's SSH agent offers: how many keys, and the position (0-based) of
// the first one the build user's authorized_keys lists, -1 when none is listed there.
type agentKeys struct {
	Count      int
	Authorized int
}

// passwordLockout is the refusal of a run that turns password login off under a build that
// logs in with a password only.
func passwordLockout(a buildAuth, ch sshChanges) error {
	if !a.SSH || !ch.PasswordOff || !a.Password || a.Key || a.Agent {
		return nil
	}
	return fmt.Errorf("the build logs in with ssh_password, and control ssh.password-authentication turns " +
		"password login off: the build's next SSH connection (a later provisioner, the builder's own steps) " +
		"would be refused. Log in with a key (ssh_private_key_file, ssh_keypair_name, or the builder's " +
		"temporary key), or keep password login with ssh { password_authentication = true }, or skip " +
		"ssh.password-authentication")
}

// agentLockout is the refusal of a run that lowers MaxAuthTries below the number of keys the
// agent offers before the one the target accepts: sshd counts every refused key as a failed
// attempt and drops the connection when they reach MaxAuthTries.
func agentLockout(a buildAuth, ch sshChanges, keys agentKeys) error {
	if !a.SSH || !a.Agent || a.Key || ch.MaxAuthTries == 0 || keys.Count <= ch.MaxAuthTries {
		return nil
	}
	if keys.Authorized >= 0 && keys.Authorized < ch.MaxAuthTries {
		return nil
	}
	where := "none of them is in the build user's ~/.ssh/authorized_keys"
	if keys.Authorized >= 0 {
		where = fmt.Sprintf("the one the target accepts comes %s", ordinal(keys.Authorized+1))
	}
	return fmt.Errorf("the build logs in with ssh_agent_auth and the agent offers %d keys (%s); control "+
		"ssh.max-auth-tries sets MaxAuthTries %d, and sshd drops a connection after that many refused keys: "+
		"the build's next SSH connection would be refused. Load only the build's key into the agent, or use "+
		"ssh_private_key_file, or skip ssh.max-auth-tries", keys.Count, where, ch.MaxAuthTries)
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// readAgentKeys lists the keys of the agent at SSH_AUTH_SOCK (the one the build's communicator
// uses: the plugin inherits packer's environment) and finds the first that the build user's
// authorized_keys files list.
func readAgentKeys(ctx context.Context, runner *remote.Runner) (agentKeys, error) {
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return agentKeys{}, fmt.Errorf("ssh_agent_auth is set but SSH_AUTH_SOCK is empty")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return agentKeys{}, fmt.Errorf("reaching the SSH agent: %w", err)
	}
	defer conn.Close()
	keys, err := agent.NewClient(conn).List()
	if err != nil {
		return agentKeys{}, fmt.Errorf("listing the SSH agent's keys: %w", err)
	}
	out := agentKeys{Count: len(keys), Authorized: -1}
	stdout, _, _, err := runner.Exec(ctx, `cat "$HOME/.ssh/authorized_keys" "$HOME/.ssh/authorized_keys2" 2>/dev/null`)
	if err != nil {
		return out, fmt.Errorf("reading the build user's authorized_keys: %w", err)
	}
	authorized := parseAuthorizedKeys(stdout)
	for i, k := range keys {
		for _, a := range authorized {
			if bytes.Equal(k.Marshal(), a.Marshal()) {
				out.Authorized = i
				return out, nil
			}
		}
	}
	return out, nil
}

func parseAuthorizedKeys(text string) []ssh.PublicKey {
	var keys []ssh.PublicKey
	for _, line := range strings.Split(text, "\n") {
		if k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// checkBuildAccess refuses, before anything changes, an enforce run that would lock the build
// out of its next SSH connection.
func checkBuildAccess(ctx context.Context, runner *remote.Runner, generatedData map[string]interface{}, selected []hardening.Module, o *hardening.Options) error {
	a := buildAuthOf(generatedData)
	ch := sshChangesOf(selected, o)
	if err := passwordLockout(a, ch); err != nil {
		return err
	}
	if !a.SSH || !a.Agent || a.Key || ch.MaxAuthTries == 0 {
		return nil
	}
	keys, err := readAgentKeys(ctx, runner)
	if err != nil {
		return err
	}
	return agentLockout(a, ch, keys)
}
