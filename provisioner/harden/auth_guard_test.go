package harden

import (
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
)

func TestBuildAuthOfGeneratedData(t *testing.T) {
	// What the SDK's PopulateProvisionHookData puts in the generated data of an ssh_password build.
	got := buildAuthOf(map[string]interface{}{
		"ConnType": "ssh", "Password": "s3cret", "SSHPrivateKey": "", "SSHPrivateKeyFile": "", "SSHAgentAuth": false,
	})
	if got != (buildAuth{SSH: true, Password: true}) {
		t.Errorf("ssh_password build: %+v", got)
	}
	got = buildAuthOf(map[string]interface{}{"ConnType": "ssh", "SSHPrivateKeyFile": "/k", "SSHAgentAuth": true})
	if got != (buildAuth{SSH: true, Key: true, Agent: true}) {
		t.Errorf("key and agent build: %+v", got)
	}
	if got := buildAuthOf(nil); got != (buildAuth{}) {
		t.Errorf("no generated data: %+v", got)
	}
}

func TestSSHChangesOfTheSelection(t *testing.T) {
	sel, err := hardening.Select(hardening.Modules(), hardening.Selection{Profile: hardening.ProfileBaseline})
	if err != nil {
		t.Fatal(err)
	}
	o := &hardening.Options{}
	if got := sshChangesOf(sel, o); !got.PasswordOff || got.MaxAuthTries != 0 {
		t.Errorf("baseline (password login off, MaxAuthTries untouched): %+v", got)
	}
	o.SSH.PasswordAuthentication = true
	if got := sshChangesOf(sel, o); got.PasswordOff {
		t.Errorf("password_authentication = true keeps password login: %+v", got)
	}
	sel, _ = hardening.Select(hardening.Modules(), hardening.Selection{Profile: hardening.ProfileCISLevel1Server})
	if got := sshChangesOf(sel, &hardening.Options{}); got.MaxAuthTries != hardening.DefaultSSHMaxAuthTries {
		t.Errorf("cis-level1-server sets MaxAuthTries %d: %+v", hardening.DefaultSSHMaxAuthTries, got)
	}
	sel, _ = hardening.Select(hardening.Modules(), hardening.Selection{Profile: hardening.ProfileCISLevel1Server, Skip: []string{"ssh"}})
	if got := sshChangesOf(sel, &hardening.Options{}); got != (sshChanges{}) {
		t.Errorf("without the ssh module nothing changes sshd: %+v", got)
	}
}

func TestPasswordLockout(t *testing.T) {
	off := sshChanges{PasswordOff: true}
	for _, tc := range []struct {
		name string
		auth buildAuth
		ch   sshChanges
		want bool
	}{
		{"password only, password login turned off", buildAuth{SSH: true, Password: true}, off, true},
		{"password kept", buildAuth{SSH: true, Password: true}, sshChanges{}, false},
		{"password and a key", buildAuth{SSH: true, Password: true, Key: true}, off, false},
		{"password and an agent", buildAuth{SSH: true, Password: true, Agent: true}, off, false},
		{"key only", buildAuth{SSH: true, Key: true}, off, false},
		{"not SSH", buildAuth{Password: true}, off, false},
	} {
		err := passwordLockout(tc.auth, tc.ch)
		if (err != nil) != tc.want {
			t.Errorf("%s: got %v", tc.name, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "ssh_password") || !strings.Contains(err.Error(), "password_authentication")) {
			t.Errorf("%s: the message must name ssh_password and ssh.password_authentication: %v", tc.name, err)
		}
	}
}

func TestAgentLockout(t *testing.T) {
	agentOnly := buildAuth{SSH: true, Agent: true}
	four := sshChanges{MaxAuthTries: 4}
	for _, tc := range []struct {
		name string
		auth buildAuth
		ch   sshChanges
		keys agentKeys
		want string // "" = no refusal
	}{
		{"as many keys as tries", agentOnly, four, agentKeys{Count: 4, Authorized: 3}, ""},
		{"many keys, the accepted one early", agentOnly, four, agentKeys{Count: 9, Authorized: 3}, ""},
		{"many keys, the accepted one fifth", agentOnly, four, agentKeys{Count: 9, Authorized: 4}, "comes 5th"},
		{"many keys, none authorized", agentOnly, four, agentKeys{Count: 6, Authorized: -1}, "none of them"},
		{"MaxAuthTries untouched", agentOnly, sshChanges{}, agentKeys{Count: 9, Authorized: 8}, ""},
		{"a key file besides the agent", buildAuth{SSH: true, Agent: true, Key: true}, four, agentKeys{Count: 9, Authorized: 8}, ""},
	} {
		err := agentLockout(tc.auth, tc.ch, tc.keys)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: not refused", tc.name)
		case err != nil && (!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "ssh_agent_auth") || !strings.Contains(err.Error(), "ssh.max-auth-tries")):
			t.Errorf("%s: the message must say %q and name ssh_agent_auth and ssh.max-auth-tries: %v", tc.name, tc.want, err)
		}
	}
}
