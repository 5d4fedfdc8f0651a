package hardening

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// embeddedScripts returns the paths (relative to this package) of the embedded files ending in ext.
func embeddedScripts(t *testing.T, ext string) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(scriptFiles, "scripts", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ext) {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no embedded %s file", ext)
	}
	return out
}

// TestEmbeddedShellPassesShellcheck runs shellcheck over every embedded .sh file. Most files are
// the bodies of check and fix functions: they are POSIX sh (the rendered script runs under
// /bin/sh) unless the file says otherwise with a shebang or a "# shellcheck shell=" directive.
// SC2154 (a variable referenced but not assigned) is left out for every file: the module
// parameters, the runtime's variables and the values a Go-rendered prologue sets before a body
// are assigned outside the file by design. One shellcheck process checks every file of a kind:
// one process per file took ten times as long.
func TestEmbeddedShellPassesShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck is not installed (scripts/setup.sh installs it)")
	}
	var posix, declared []string
	for _, p := range embeddedScripts(t, ".sh") {
		text, err := scriptFiles.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(text, []byte("#!")) || bytes.Contains(text, []byte("# shellcheck shell=")) {
			declared = append(declared, p)
		} else {
			posix = append(posix, p)
		}
	}
	for _, run := range []struct {
		args  []string
		files []string
	}{{[]string{"-s", "sh"}, posix}, {nil, declared}} {
		if len(run.files) == 0 {
			continue
		}
		args := append(append([]string{"-f", "gcc", "-e", "SC2154"}, run.args...), run.files...)
		if out, err := exec.Command(sc, args...).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", strings.Join(run.args, " "), err, out)
		}
	}
}

// TestEmbeddedAwkParses loads every embedded .awk program in the system's awk with no input:
// a syntax error is reported on stderr. The programs' verdicts (stdout, exit code) on empty
// input mean nothing here; the snippet tests run them on real input.
func TestEmbeddedAwkParses(t *testing.T) {
	awk := requireTool(t, "awk")
	for _, p := range embeddedScripts(t, ".awk") {
		var stderr bytes.Buffer
		cmd := exec.Command(awk, "-f", p, "/dev/null")
		cmd.Stderr = &stderr
		_ = cmd.Run()
		if stderr.Len() > 0 {
			t.Errorf("awk -f %s: %s", p, stderr.String())
		}
	}
}

// TestEmbeddedPythonCompiles compiles every embedded .py file with python3 (without writing
// byte code next to it).
func TestEmbeddedPythonCompiles(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	for _, p := range embeddedScripts(t, ".py") {
		out, err := exec.Command(py, "-c", "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')", p).CombinedOutput()
		if err != nil {
			t.Errorf("python3 compile %s: %v\n%s", p, err, out)
		}
	}
}

// inlineShellLines is the longest backquoted string a Go file of the package may hold when it
// looks like shell: longer code belongs in a file under scripts/<module>/, with the Go constants it
// needs passed as shell variables (embeddedWith).
const inlineShellLines = 3

// looksLikeShell is the heuristic of TestNoLongShellInGo: a string with one of these is code
// for the target, not a message or a configuration file's text.
func looksLikeShell(s string) bool {
	for _, m := range []string{"g_", "return ", "; then", "$(", "\nfi", "; do", "awk ", "printf "} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// TestNoLongShellInGo fails when a Go file of the package (tests aside) holds a backquoted string
// of more than inlineShellLines lines that looks like shell (see looksLikeShell).
func TestNoLongShellInGo(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if ok && lit.Kind == token.STRING && strings.HasPrefix(lit.Value, "`") &&
				strings.Count(strings.TrimRight(lit.Value, "\n`"), "\n")+1 > inlineShellLines && looksLikeShell(lit.Value) {
				t.Errorf("%s: a backquoted shell string of more than %d lines: move the code to a file under scripts/ and embed it",
					fset.Position(lit.Pos()), inlineShellLines)
			}
			return true
		})
	}
}
