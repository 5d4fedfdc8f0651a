package hardening

import (
	"embed"
	"strings"
)

// The shell, awk, sed and Python that controls run on the target, one file each under scripts/
// (scripts/<module>/<name>.<sh|awk|sed|py>): editors, shellcheck and reviewers see them as code.
// A .sh file is a check, fix or finalize body (or a part of one) for the rendered POSIX script;
// what Go knows (file paths, a control's values, an awk program) reaches it as shell variables
// assigned before the body (embeddedWith).
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

// embeddedWith returns scripts/<name> after one assignment per name and value in vars (each
// value one single-quoted word), indented as the script's first line: the Go constants a script
// reads (file paths, names, awk programs) reach it as shell variables.
func embeddedWith(name string, vars ...string) string {
	body := embedded(name)
	indent := body[:len(body)-len(strings.TrimLeft(body, "\t "))]
	var b strings.Builder
	for i := 0; i+1 < len(vars); i += 2 {
		if strings.ContainsAny(vars[i+1], "$`") {
			// An awk program or a text with $ in it: single quotes keep it as it is.
			b.WriteString(indent + "# shellcheck disable=SC2016 # literal text: an awk program, or a file's content\n")
		}
		b.WriteString(indent + vars[i] + "=" + shellQuote(vars[i+1]) + "\n")
	}
	return b.String() + body
}
