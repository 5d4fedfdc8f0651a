package acceptance

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// buildLog is the shape of a failed `packer build` log with PACKER_LOG=1: timestamped lines from
// packer and its plugins, UI messages in colour, and an error whose later lines carry no timestamp.
const buildLog = "2026/11/26 00:31:32 [INFO] Packer version: 1.12.0\n" +
	"2026/11/26 00:31:32 ui: \x1b[1;32mnull.outputs: output will be in this color.\x1b[0m\n" +
	"2026/11/26 00:31:32 ui error: Error: Datasource.Execute failed: no AMI in us-east-1 matches owners [\"self\"],\n" +
	"name \"golden-acc-absent-1-*\", not deprecated, state available\n" +
	"\n" +
	"  on absent-image.pkr.hcl line 12:\n" +
	"2026/11/26 00:31:32 waiting for all plugin processes to complete...\n" +
	"2026/11/26 00:31:33 ui error: Build 'null.outputs' errored after 1 second: second problem\n"

func writeLog(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "packer_log.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ran returns a finished command with the exit status of the shell command.
func ran(t *testing.T, shell string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", shell)
	_ = cmd.Run()
	return cmd
}

func TestUIErrorsJoinsContinuationLines(t *testing.T) {
	got := uiErrors(writeLog(t, buildLog))
	want := []string{
		`Error: Datasource.Execute failed: no AMI in us-east-1 matches owners ["self"], name "golden-acc-absent-1-*", not deprecated, state available on absent-image.pkr.hcl line 12:`,
		"Build 'null.outputs' errored after 1 second: second problem",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("uiErrors =\n%q\nwant\n%q", got, want)
	}
}

func TestBuildChecks(t *testing.T) {
	failedLog := writeLog(t, buildLog)
	okLog := writeLog(t, "2026/11/26 00:31:32 ui: \x1b[1;32mBuild 'null.outputs' finished.\x1b[0m\n")
	failed, succeeded := ran(t, "exit 1"), ran(t, "exit 0")

	// A message packer wrapped over two lines still matches.
	wrapped := `owners ["self"], name "golden-acc-absent-1-*"`
	cases := []struct {
		name    string
		err     error
		wantErr string // "" for no error
	}{
		{"succeeded", BuildSucceeded(succeeded, okLog), ""},
		{"failed build is not success", BuildSucceeded(failed, failedLog), "packer build exited 1: Error: Datasource.Execute failed"},
		{"never started", BuildSucceeded(exec.Command("packer-not-installed"), okLog), "exited -1"},
		{"failed saying it", BuildFailedWith("no AMI in us-east-1 matches", wrapped)(failed, failedLog), ""},
		{"failed saying something else", BuildFailedWith("no AMI in eu-west-1")(failed, failedLog), `without saying "no AMI in eu-west-1"`},
		{"success is not the failure wanted", BuildFailedWith("no AMI")(succeeded, okLog), "succeeded, want a failure"},
	}
	for _, c := range cases {
		switch {
		case c.wantErr == "" && c.err != nil:
			t.Errorf("%s: %v", c.name, c.err)
		case c.wantErr != "" && (c.err == nil || !strings.Contains(c.err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.wantErr)
		}
	}
}

func TestVarsAreSortedPairs(t *testing.T) {
	got := Vars(map[string]string{"region": "eu-west-1", "out": "/x/out.json", "name": "a b"})
	want := []string{"-var", "name=a b", "-var", "out=/x/out.json", "-var", "region=eu-west-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Vars = %q, want %q", got, want)
	}
}

func TestRegions(t *testing.T) {
	cases := []struct{ region, copyRegion, wantRegion, wantCopy string }{
		{"", "", "us-east-1", "us-west-2"},
		{"us-west-2", "", "us-west-2", "us-east-2"},
		{"eu-west-1", "eu-central-1", "eu-west-1", "eu-central-1"},
	}
	for _, c := range cases {
		t.Setenv("GOLDEN_ACC_REGION", c.region)
		t.Setenv("GOLDEN_ACC_COPY_REGION", c.copyRegion)
		if Region() != c.wantRegion || CopyRegion() != c.wantCopy {
			t.Errorf("GOLDEN_ACC_REGION=%q GOLDEN_ACC_COPY_REGION=%q: %s and %s, want %s and %s",
				c.region, c.copyRegion, Region(), CopyRegion(), c.wantRegion, c.wantCopy)
		}
	}
}

func TestNewCaseComposesTheSharedTemplates(t *testing.T) {
	t.Setenv("GOLDEN_ACC_REGION", "eu-west-1")
	fixture := "build {\n  sources = [\"source.amazon-ebs.debian\"]\n}\n"
	cases := []struct {
		base       Base
		init       bool
		wantBlocks []string
	}{
		{Debian, false, []string{`data "golden-ami" "debian"`}},
		{DebianEBS, true, []string{`data "golden-ami" "debian"`, `source "amazon-ebs" "debian"`, "required_plugins"}},
	}
	for _, c := range cases {
		tc := NewCase("x", c.base, fixture, map[string]string{"out": "/x/out.json"})
		if _, diags := hclparse.NewParser().ParseHCL([]byte(tc.Template), "x.pkr.hcl"); diags.HasErrors() {
			t.Errorf("base %d: the composed template does not parse: %v", c.base, diags)
		}
		for _, b := range append(c.wantBlocks, fixture) {
			if !strings.Contains(tc.Template, b) {
				t.Errorf("base %d: template lacks %q", c.base, b)
			}
		}
		if tc.Init != c.init {
			t.Errorf("base %d: Init = %v, want %v", c.base, tc.Init, c.init)
		}
		want := []string{"-var", "debian_owner=" + DebianOwner, "-var", "out=/x/out.json", "-var", "region=eu-west-1"}
		if !reflect.DeepEqual(tc.BuildExtraArgs, want) {
			t.Errorf("base %d: arguments %q, want %q", c.base, tc.BuildExtraArgs, want)
		}
	}
}
