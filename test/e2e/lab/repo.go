// Package lab is the end-to-end harness: it builds the plugin, installs it for the real packer
// binary in private folders, runs packer, and boots Debian 12 targets (test/target/target.sh) that
// tests reach over SSH, like freshly launched EC2 instances.
//
// Every helper takes the test's *testing.T, fails it with the reason when something cannot work,
// and registers its own cleanup. See docs/test-lab.md for the lab itself.
package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// modulePath identifies this repository's go.mod while walking up from a test's directory.
const modulePath = "github.com/golden-ami/packer-plugin-golden"

// findRepoRoot walks up from dir to the folder whose go.mod declares this module.
func findRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && declaresModule(data, modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the test's directory", modulePath)
		}
		dir = parent
	}
}

// declaresModule reports whether a go.mod's module line names path.
func declaresModule(gomod []byte, path string) bool {
	for _, line := range bytes.Split(gomod, []byte("\n")) {
		fields := bytes.Fields(line)
		if len(fields) == 2 && string(fields[0]) == "module" && string(bytes.Trim(fields[1], `"`)) == path {
			return true
		}
	}
	return false
}

var repoRoot = sync.OnceValues(func() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return findRepoRoot(wd)
})

// RepoRoot is the repository's top folder, found from the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	return root
}

var packerBinary = sync.OnceValues(func() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".tools", "packer")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// The pinned packer is built from the module proxy by the project's tool script (minutes, once).
	cmd := exec.Command(filepath.Join(root, "scripts", "tools.sh"), "packer")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building packer with scripts/tools.sh packer: %w\n%s", err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", errors.New("scripts/tools.sh packer did not produce .tools/packer")
	}
	return bin, nil
})
