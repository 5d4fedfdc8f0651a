package hardening

import (
	"embed"
	"strings"
)

// The shell, awk and Python that controls run on the target, one file each under scripts/
// (scripts/<module>/<name>.<sh|awk|py>): editors, shellcheck and reviewers see them as code.
//
//go:embed scripts
var scriptFiles embed.FS

// embedded returns the text of scripts/<name> without its trailing newline; a missing file is a
// programming error, found by every test that renders the catalogue.
func embedded(name string) string {
	b, err := scriptFiles.ReadFile("scripts/" + name)
	if err != nil {
		panic("hardening: no embedded script " + name)
	}
	return strings.TrimRight(string(b), "\n")
}

// awkProgram returns the awk program scripts/<name> as one single-quoted shell word.
func awkProgram(name string) string {
	return shellQuote(embedded(name))
}
