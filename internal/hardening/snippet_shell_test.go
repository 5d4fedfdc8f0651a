package hardening

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// snippetRun runs a control's check or fix under dash, as a function body after prelude (stubs of
// the runtime helpers and the variables it reads), with only bin on PATH. It returns the output
// and the function's exit status.
func snippetRun(t *testing.T, bin, prelude, body string) (string, int) {
	t.Helper()
	cmd := exec.Command(requireTool(t, "dash"), "-c", prelude+"\nf() {\n"+body+"\n}\nf\n")
	cmd.Env = []string{"PATH=" + bin}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// snippetBin makes a folder for a snippet's PATH with the host's tools linked in and the stubs
// (name -> shell script) written.
func snippetBin(t *testing.T, tools []string, stubs map[string]string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools {
		if err := os.Symlink(requireTool(t, tool), filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for name, script := range stubs {
		writeFile(t, filepath.Join(bin, name), "#!/bin/sh\n"+script, 0o755)
	}
	return bin
}

// controlByID is the control of the module with that id.
func controlByID(t *testing.T, module, id string) Control {
	t.Helper()
	for _, c := range moduleByName(t, module).Controls {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("%s is not in the %s module", id, module)
	return Control{}
}
