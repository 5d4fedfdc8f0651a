package compliance

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// OSes are the releases of the table: the seed's Ubuntu 22.04, and Debian 12.
var OSes = []string{"debian-12", "ubuntu-22.04"}

// Rows are the profiles of the table, per OS: the machine as the vendor's image boots it, the
// example pipeline's hardening, and every profile with default options (the SSH port of the build
// and 443/tcp allowed).
var Rows = []string{Pristine, ExampleProfile, "cis-level1-server", "cis-level2-server", "baseline"}

// ExampleProfile names the row of the seed's pipeline rebuilt: its golden-harden block, as written
// there (the profile and every module option the seed configured: packages, UTC, SSH, UFW,
// fail2ban, chrony, the sysctl override, build info), hardens the machine.
const ExampleProfile = "example/ubuntu-22.04.pkr.hcl"

// HardenBlock returns the golden-harden provisioner block of the template src, as its source
// text, and the variable blocks it reads, so that another build can run that block as the template
// wrote it. A block reading locals, data sources or another provisioner's output cannot be lifted
// out and is an error.
func HardenBlock(src []byte, name string) (block, variables string, err error) {
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return "", "", diags
	}
	body := file.Body.(*hclsyntax.Body)
	var found *hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type != "build" {
			continue
		}
		for _, p := range b.Body.Blocks {
			if p.Type == "provisioner" && len(p.Labels) == 1 && p.Labels[0] == "golden-harden" {
				if found != nil {
					return "", "", fmt.Errorf("%s: more than one golden-harden provisioner", name)
				}
				found = p
			}
		}
	}
	if found == nil {
		return "", "", fmt.Errorf("%s: no golden-harden provisioner", name)
	}
	wanted := map[string]bool{}
	var walk func(*hclsyntax.Body) error
	walk = func(b *hclsyntax.Body) error {
		for _, a := range b.Attributes {
			for _, tr := range a.Expr.Variables() {
				switch root := tr.RootName(); root {
				case "var":
					if len(tr) < 2 {
						return fmt.Errorf("%s: %s reads var without a name", name, a.Name)
					}
					step, ok := tr[1].(hcl.TraverseAttr)
					if !ok {
						return fmt.Errorf("%s: %s reads var by index", name, a.Name)
					}
					wanted[step.Name] = true
				default:
					return fmt.Errorf("%s: golden-harden's %s reads %s, which only its own template has", name, a.Name, root)
				}
			}
		}
		for _, nested := range b.Blocks {
			if err := walk(nested.Body); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(found.Body); err != nil {
		return "", "", err
	}
	var vars []string
	for _, b := range body.Blocks {
		if b.Type == "variable" && len(b.Labels) == 1 && wanted[b.Labels[0]] {
			vars = append(vars, string(b.Range().SliceBytes(src)))
			delete(wanted, b.Labels[0])
		}
	}
	if len(wanted) > 0 {
		missing := make([]string, 0, len(wanted))
		for v := range wanted {
			missing = append(missing, v)
		}
		sort.Strings(missing)
		return "", "", fmt.Errorf("%s: golden-harden reads undeclared variables %s", name, strings.Join(missing, ", "))
	}
	return "  " + string(found.Range().SliceBytes(src)) + "\n", strings.Join(vars, "\n\n") + "\n", nil
}

// treeCommit names the tree the scanned hardening came from: the commit, "+dirty" when the
// working tree differs from it.
func treeCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--always", "--dirty=+dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// hostLoad is the lab host's load averages (1, 5, 15 minutes) when a scan ran: the scans'
// durations and the lab's timeouts depend on it.
func hostLoad() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
