package compliance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// The example's golden-harden block, lifted out with the variables it reads, makes a template
// that parses, and holds what the seed configured.
func TestHardenBlockOfExample(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", ExampleProfile))
	if err != nil {
		t.Fatal(err)
	}
	block, vars, err := HardenBlock(src, ExampleProfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`provisioner "golden-harden"`, `profile = "cis-level1-server"`, "fail2ban {", "chrony {", "firewall {", "ssh {"} {
		if !strings.Contains(block, want) {
			t.Errorf("block lacks %q:\n%s", want, block)
		}
	}
	for _, v := range []string{"git_commit", "environment", "report_dir"} {
		if !strings.Contains(vars, `variable "`+v+`"`) {
			t.Errorf("variables lack %s:\n%s", v, vars)
		}
	}
	if strings.Contains(vars, `variable "copy_to"`) {
		t.Errorf("variables the block does not read were kept:\n%s", vars)
	}
	if _, diags := hclsyntax.ParseConfig([]byte(lab.NullSSHTemplate(block)+"\n"+vars), "example.pkr.hcl", hcl.InitialPos); diags.HasErrors() {
		t.Fatal(diags)
	}
}

func TestHardenBlockRefusals(t *testing.T) {
	for name, src := range map[string]string{
		"none":      `build { provisioner "shell" { inline = ["true"] } }`,
		"local":     "locals { p = \"baseline\" }\nbuild {\n  provisioner \"golden-harden\" {\n    profile = local.p\n  }\n}\n",
		"undeclare": "build {\n  provisioner \"golden-harden\" {\n    profile = var.p\n  }\n}\n",
		"two":       "build {\n  provisioner \"golden-harden\" {}\n  provisioner \"golden-harden\" {}\n}\n",
	} {
		if _, _, err := HardenBlock([]byte(src), name+".pkr.hcl"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// Put keeps one row per OS and profile, the latest, in the order of OSes and Rows.
func TestTablePut(t *testing.T) {
	var tb Table
	tb.Put(Machine{OS: "ubuntu-22.04", Profile: "baseline", Scanned: "1"})
	tb.Put(Machine{OS: "debian-12", Profile: ExampleProfile, Scanned: "1"})
	tb.Put(Machine{OS: "debian-12", Profile: Pristine, Scanned: "1"})
	tb.Put(Machine{OS: "ubuntu-22.04", Profile: "baseline", Scanned: "2"})
	var got []string
	for _, m := range tb.Machines {
		got = append(got, m.OS+" "+m.Profile+" "+m.Scanned)
	}
	want := "debian-12 pristine 1|debian-12 " + ExampleProfile + " 1|ubuntu-22.04 baseline 2"
	if strings.Join(got, "|") != want {
		t.Errorf("rows %q, want %q", strings.Join(got, "|"), want)
	}
}
