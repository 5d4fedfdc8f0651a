package launch

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
)

// KeyPair is the temporary key pair of a run.
type KeyPair struct {
	// Name is the EC2 key pair name, also the comment of the public key.
	Name string
	// ID is EC2's key pair id.
	ID string
	// AuthorizedKey is the public key as one authorized_keys line ("ssh-ed25519 AAAA... name").
	AuthorizedKey string
}

// StepKeyPair makes the run's SSH key: an ed25519 key generated here, whose private half never
// leaves this process (it is not written anywhere unless DebugKeyPath is set), and whose public
// half is imported into EC2 as a key pair tagged on create. It fills Comm's SSHPrivateKey and
// SSHKeyPairName so StepConnect and RunInstances use it, and puts StateKeyPair.
//
// It does nothing when the run brings its own key (ssh_keypair_name, ssh_private_key_file), a
// password, or no SSH at all. Cleanup deletes the key pair.
type StepKeyPair struct {
	Session Session
	Comm    *communicator.Config
	// DebugKeyPath, when set (packer -debug), is where the private key is written, mode 0600,
	// so that the instance can be reached by hand while the build is paused.
	DebugKeyPath string

	// importing is the name of the key pair once ImportKeyPair was called: an interrupted call
	// may have imported it, and EC2 deletes a key pair by name whether it exists or not.
	importing string
	created   *KeyPair
}

// Needed reports whether the run needs a temporary key pair.
func (s *StepKeyPair) Needed() bool {
	c := s.Comm
	return c.Type == "ssh" && c.SSHKeyPairName == "" && c.SSHPrivateKeyFile == "" && c.SSHPassword == "" && !c.SSHAgentAuth
}

func (s *StepKeyPair) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	if !s.Needed() {
		return multistep.ActionContinue
	}
	name := s.Session.Name()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return halt(state, fmt.Errorf("generating the temporary ed25519 key: %w", err))
	}
	block, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		return halt(state, fmt.Errorf("encoding the temporary key: %w", err))
	}
	privatePEM := pem.EncodeToMemory(block)
	secretfilter.Set(string(privatePEM))
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return halt(state, fmt.Errorf("encoding the temporary public key: %w", err))
	}
	authorized := fmt.Sprintf("%s %s", trimNewline(ssh.MarshalAuthorizedKey(sshPub)), name)

	ui(state).Say(fmt.Sprintf("Importing temporary ed25519 key pair %s", name))
	s.importing = name
	out, err := ec2API(state).ImportKeyPair(ctx, &ec2.ImportKeyPairInput{
		KeyName:           aws.String(name),
		PublicKeyMaterial: []byte(authorized),
		TagSpecifications: s.Session.TagSpecifications(types.ResourceTypeKeyPair),
	})
	if err != nil {
		return halt(state, fmt.Errorf("importing the temporary key pair %s: %w", name, err))
	}
	s.created = &KeyPair{Name: name, ID: aws.ToString(out.KeyPairId), AuthorizedKey: authorized}
	state.Put(StateKeyPair, s.created)

	s.Comm.SSHPrivateKey = privatePEM
	s.Comm.SSHKeyPairName = name
	s.Comm.SSHTemporaryKeyPairName = name

	if s.DebugKeyPath != "" {
		ui(state).Message(fmt.Sprintf("Writing the temporary private key to %s (-debug)", s.DebugKeyPath))
		if err := os.WriteFile(s.DebugKeyPath, privatePEM, 0o600); err != nil {
			return halt(state, fmt.Errorf("writing the debug key: %w", err))
		}
	}
	return multistep.ActionContinue
}

func (s *StepKeyPair) Cleanup(state multistep.StateBag) {
	if s.importing == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	u := ui(state)
	name := s.importing
	u.Say(fmt.Sprintf("Deleting temporary key pair %s", name))
	err := RetryCleanup(ctx, "deleting key pair "+name, func(ctx context.Context) error {
		_, err := ec2API(state).DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(name)})
		return err
	}, func(err error) bool { return awsconf.ErrorCode(err) == "InvalidKeyPair.NotFound" })
	if err != nil {
		u.Error(fmt.Sprintf("%v; delete key pair %s by hand, or let the next run's sweep_orphans remove it after %s", err, name, s.Session.ExpiresAt.Format("2006-01-02 15:04 MST")))
	}
	if s.DebugKeyPath != "" {
		_ = os.Remove(s.DebugKeyPath)
	}
	s.importing, s.created = "", nil
}

func trimNewline(b []byte) string {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return string(b)
}
