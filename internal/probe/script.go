package probe

import (
	_ "embed"
	"fmt"
	"strings"
)

// Marker starts every result line of the probe script.
const Marker = "@@golden-probe@@"

//go:embed probe.sh
var scriptTemplate string

//go:embed http_request.py
var httpClient string

// httpUser is a probe that makes HTTP requests from the instance.
type httpUser interface{ needsHTTP() bool }

// Script renders the one script that gathers the facts of every probe: probe i becomes the shell
// function probe_i. Python's HTTP client is written to the script's work directory only when a
// probe makes requests.
func Script(probes []Probe) []byte {
	var fns strings.Builder
	needsHTTP := false
	for i, p := range probes {
		fmt.Fprintf(&fns, "# %s\nprobe_%d() {\n%s\n}\n", oneLine(ID(p)), i, p.Gather())
		if h, ok := p.(httpUser); ok && h.needsHTTP() {
			needsHTTP = true
		}
	}
	helper := ""
	if needsHTTP {
		helper = "cat >\"$W/http_request.py\" <<'GOLDEN_HTTP_PY'\n" + httpClient + "GOLDEN_HTTP_PY\n"
	}
	s := strings.Replace(scriptTemplate, "@@HTTP_HELPER@@\n", helper, 1)
	s = strings.Replace(s, "@@PROBES@@\n", fns.String(), 1)
	return []byte("#!/bin/sh\n" + s)
}

// oneLine keeps a comment on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
