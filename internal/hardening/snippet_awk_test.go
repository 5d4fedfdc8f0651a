package hardening

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The checks of several modules hand their verdict to one awk program (one process instead of
// one per value). These helpers run such a program the way its snippet does, under every awk
// found here: Debian's default mawk, and gawk or busybox awk when installed.

// awkCommand is one awk implementation: its argv before the program.
type awkCommand []string

func (a awkCommand) String() string { return strings.Join(a, " ") }

// awkImplementations returns the awk implementations to run the programs under; "awk" is
// required.
func awkImplementations(t *testing.T) []awkCommand {
	t.Helper()
	impls := []awkCommand{{requireTool(t, "awk")}}
	seen := map[string]bool{}
	if p, err := filepath.EvalSymlinks(impls[0][0]); err == nil {
		seen[p] = true
	}
	for _, name := range []string{"mawk", "gawk", "original-awk"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && !seen[real] {
			seen[real] = true
			impls = append(impls, awkCommand{p})
		}
	}
	if bb, err := exec.LookPath("busybox"); err == nil {
		impls = append(impls, awkCommand{bb, "awk"})
	}
	return impls
}

// awkRun is one run of a snippet's awk program.
type awkRun struct {
	vars  map[string]string // -v assignments
	env   map[string]string // environment (ENVIRON), on top of LC_ALL=C
	files []string
	stdin string
}

// run returns the program's stdout and exit code; anything on stderr fails the test.
func (r awkRun) run(t *testing.T, awk awkCommand, program string) (string, int) {
	t.Helper()
	args := append([]string{}, awk[1:]...)
	for k, v := range r.vars {
		args = append(args, "-v", k+"="+v)
	}
	args = append(args, program)
	args = append(args, r.files...)
	cmd := exec.Command(awk[0], args...)
	cmd.Env = []string{"LC_ALL=C", "PATH=" + os.Getenv("PATH")}
	for k, v := range r.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(r.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", awk, err)
	}
	if stderr.Len() > 0 {
		t.Errorf("%s wrote to stderr: %s", awk, stderr.String())
	}
	return stdout.String(), code
}

// wantAwk runs the program under every implementation and checks the exit code, that lines of
// the output contain the wanted texts (one line each, in that order) and that the output has
// none of the unwanted ones.
func wantAwk(t *testing.T, program string, r awkRun, code int, lines []string, absent ...string) {
	t.Helper()
	for _, awk := range awkImplementations(t) {
		out, got := r.run(t, awk, program)
		if got != code {
			t.Errorf("%s: exit %d, want %d; output:\n%s", awk, got, code, out)
		}
		rest := strings.Split(out, "\n")
		for _, l := range lines {
			for len(rest) > 0 && !strings.Contains(rest[0], l) {
				rest = rest[1:]
			}
			if len(rest) == 0 {
				t.Errorf("%s: no line has %q (in this order); output:\n%s", awk, l, out)
				break
			}
			rest = rest[1:]
		}
		for _, a := range absent {
			if strings.Contains(out, a) {
				t.Errorf("%s: output has %q; output:\n%s", awk, a, out)
			}
		}
	}
}

// writeFiles writes name -> content under dir and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
