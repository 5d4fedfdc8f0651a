package compliance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// PrepareOpenSCAPCopied prepares OpenSCAP on a machine that reaches no package archive (the VM
// suite's, whose image carries the scanner): the pinned content's package is downloaded on the lab
// host, from the Debian archive the host's apt reads, copied in, and checked there against its
// SHA-256 as a download would be.
func PrepareOpenSCAPCopied(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("sh", "-s", "--", "fetch", SSGVersion, SSGSHA256, dir)
	cmd.Stdin = strings.NewReader(openscapScript)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compliance: fetching ssg-debian %s on the lab host: %v\n%s", SSGVersion, err, out)
	}
	name := "ssg-debian_" + SSGVersion + "_all.deb"
	deb, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	h.MustRun(t, "sudo mkdir -p "+workDir)
	writeFile(t, h, workDir+"/"+name, string(deb))
	runScript(t, h, openscapScript, "prepare", SSGVersion, SSGSHA256, SSGDatastream)
}
