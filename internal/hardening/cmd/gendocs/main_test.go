package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
)

// The committed partials must be what the generator writes now: a control or option changed
// without `go generate ./internal/hardening` fails here, not in the published docs.
func TestCommittedDocsAreCurrent(t *testing.T) {
	blocks, err := parseOptionBlocks("../..")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"controls.mdx":          controlsDoc(hardening.Modules()),
		"module-options.mdx":    optionsDoc(blocks, hardening.Modules()),
		"supported-systems.mdx": supportedDoc(),
	}
	for name, content := range want {
		got, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "docs-partials", "provisioner", "harden", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("docs-partials/provisioner/harden/%s is stale: run go generate ./internal/hardening", name)
		}
	}
}

func TestOptionBlocks(t *testing.T) {
	blocks, err := parseOptionBlocks("../..")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]optionBlock{}
	for _, b := range blocks {
		byName[b.Name] = b
	}
	ssh, ok := byName["ssh"]
	if !ok || ssh.Type != "SSHOptions" {
		t.Fatalf("ssh block: %+v", ssh)
	}
	found := false
	for _, f := range ssh.Fields {
		if f.Name == "max_auth_tries" {
			found = true
			if f.Type != "number" || !strings.Contains(f.Doc, "Default") {
				t.Errorf("max_auth_tries: %+v", f)
			}
		}
	}
	if !found {
		t.Error("ssh.max_auth_tries not documented")
	}
	doc := optionsDoc(blocks, hardening.Modules())
	if !strings.Contains(doc, "#### `ssh { ... }`") || !strings.Contains(doc, "- `max_auth_tries` (number) - ") {
		t.Errorf("options doc:\n%.600s", doc)
	}
}

func TestHCLType(t *testing.T) {
	for goType, want := range map[string]string{
		"string": "string", "*bool": "bool", "int": "number", "[]string": "list(string)",
		"map[string]string": "map(string)", "*int": "number", "[]int": "list(number)",
	} {
		if got := hclType(goType); got != want {
			t.Errorf("hclType(%s) = %s, want %s", goType, got, want)
		}
	}
}
