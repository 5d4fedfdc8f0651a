package launch

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// TestKeyPairDebugKeyFile: with packer -debug the temporary private key is written to the given
// path with mode 0600 (and is the private half of the key pair imported into EC2); Cleanup
// deletes the file with the key pair. Without -debug nothing is written to the folder.
func TestKeyPairDebugKeyFile(t *testing.T) {
	sim := ec2sim.StartTest(t, ec2sim.Options{Delays: fast})
	dir := t.TempDir()
	path := filepath.Join(dir, "golden-ebs-debug.pem")

	state, out := newState(t, sim)
	comm := sshComm()
	step := &StepKeyPair{Session: NewSession("golden-test", "d1", time.Hour, nil), Comm: comm, DebugKeyPath: path}
	if action := step.Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("StepKeyPair halted: %v\n%s", state.Get(stateError), out)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("-debug wrote no key file: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("debug key file mode %o, want 600", mode)
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pem, comm.SSHPrivateKey) {
		t.Error("the debug key file is not the key the communicator uses")
	}
	key, err := ssh.ParseRawPrivateKey(pem)
	if err != nil {
		t.Fatalf("the debug key file is no private key: %v", err)
	}
	priv, ok := key.(*ed25519.PrivateKey)
	if !ok {
		t.Fatalf("the debug key is a %T, want ed25519", key)
	}
	signer, err := ssh.NewSignerFromKey(*priv)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := newClient(sim).DescribeKeyPairs(context.Background(), &ec2.DescribeKeyPairsInput{
		KeyNames: []string{comm.SSHKeyPairName}, IncludePublicKey: aws.Bool(true)})
	if err != nil || len(pairs.KeyPairs) != 1 {
		t.Fatalf("DescribeKeyPairs %s: %+v %v", comm.SSHKeyPairName, pairs, err)
	}
	imported := strings.Fields(aws.ToString(pairs.KeyPairs[0].PublicKey))
	written := strings.Fields(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	if len(imported) < 2 || imported[1] != written[1] {
		t.Errorf("EC2 holds public key %v, the debug file's is %v", imported, written)
	}

	step.Cleanup(state)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Cleanup left the debug key file: %v", err)
	}
	assertNothingLeft(t, sim)

	// Without -debug: the key stays in memory.
	plain := &StepKeyPair{Session: NewSession("golden-test", "d2", time.Hour, nil), Comm: sshComm()}
	if action := plain.Run(context.Background(), state); action != multistep.ActionContinue {
		t.Fatalf("StepKeyPair halted: %v\n%s", state.Get(stateError), out)
	}
	defer plain.Cleanup(state)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("without -debug the folder holds %v", entries)
	}
	if strings.Contains(out.String(), "PRIVATE KEY") {
		t.Errorf("the private key reached the UI:\n%s", out)
	}
}
