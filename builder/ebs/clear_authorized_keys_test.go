package ebs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The temporary key as StepKeyPair imports it, and two keys of the image's own users.
const (
	temporaryKeyBlob = "AAAAC3NzaC1lZDI1NTE5AAAAIHkTemporaryKeyOfBuild0000000000000000000000"
	userKey          = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyThatStays00000000000000000000000 admin@example"
	otherKey         = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQOtherKeyThatStays000000000000000 ops"
)

// runClearScript runs clear_authorized_keys.sh as StepClearAuthorizedKeys does, with sh.
func runClearScript(t *testing.T, files ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-c", clearAuthorizedKeysScript, "clear-authorized-keys", temporaryKeyBlob}, files...)...)
	out, err := cmd.CombinedOutput()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return string(out), exitErr.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func writeKeys(t *testing.T, dir, name string, mode os.FileMode, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestClearAuthorizedKeysScript(t *testing.T) {
	dir := t.TempDir()
	// cloud-init writes the key pair's key with options and a comment around the blob.
	mixed := writeKeys(t, dir, "mixed", 0o600, userKey,
		`no-port-forwarding,command="echo" ssh-ed25519 `+temporaryKeyBlob+` golden-ebs-build`, otherKey)
	only := writeKeys(t, dir, "only", 0o640, "ssh-ed25519 "+temporaryKeyBlob+" golden-ebs-build")
	untouched := writeKeys(t, dir, "untouched", 0o600, userKey)
	missing := filepath.Join(dir, "missing")

	out, status := runClearScript(t, mixed, only, untouched, missing)
	if status != 0 {
		t.Fatalf("exit %d:\n%s", status, out)
	}
	check := func(path, want string, mode os.FileMode) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != want {
			t.Errorf("%s = %q, want %q", filepath.Base(path), data, want)
		}
		if info, _ := os.Stat(path); info.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v kept", filepath.Base(path), info.Mode().Perm(), mode)
		}
	}
	check(mixed, userKey+"\n"+otherKey+"\n", 0o600)
	check(only, "", 0o640)
	check(untouched, userKey+"\n", 0o600)
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a missing file was created: %v", err)
	}
	for _, want := range []string{"removed the temporary key from " + mixed, "removed the temporary key from " + only} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, untouched) {
		t.Errorf("output names a file without the key:\n%s", out)
	}

	// Run again: nothing left to remove, nothing printed.
	if out, status := runClearScript(t, mixed, only, untouched); status != 0 || out != "" {
		t.Errorf("second run: exit %d, output %q; want 0 and nothing", status, out)
	}
}
