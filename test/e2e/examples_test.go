package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// componentUse finds the golden-* components a template uses: its source, data, provisioner and
// post-processor blocks.
var componentUse = regexp.MustCompile(`(?m)^\s*(?:source|data|provisioner|post-processor)\s+"golden-([a-z]+)"`)

// dataSource finds a data block.
var dataSource = regexp.MustCompile(`(?m)^\s*data\s+"`)

// varFileUse is the command a variable file's comment gives to build with it.
var varFileUse = regexp.MustCompile(`-var-file=(example/\S+\.pkrvars\.hcl) (example/\S+\.pkr\.hcl)`)

// exampleCheck is one `packer validate` of an example: a template, with a variable file or not.
type exampleCheck struct {
	name, template, varFile string
}

// exampleChecks are the templates under example/, at any depth, each alone and with every variable
// file (*.pkrvars.hcl) whose comment says to build it with that template.
func exampleChecks(t *testing.T, root string) []exampleCheck {
	t.Helper()
	var checks []exampleCheck
	err := filepath.WalkDir(filepath.Join(root, "example"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case strings.HasSuffix(path, ".pkr.hcl"):
			checks = append(checks, exampleCheck{name: rel, template: path})
		case strings.HasSuffix(path, ".pkrvars.hcl"):
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			m := varFileUse.FindStringSubmatch(string(data))
			if m == nil || m[1] != rel {
				t.Errorf("%s: its comment should say how to build with it (packer build -var-file=%s example/TEMPLATE.pkr.hcl)", rel, rel)
				return nil
			}
			checks = append(checks, exampleCheck{name: rel, template: filepath.Join(root, m[2]), varFile: path})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return checks
}

// registeredComponents are the components the installed plugin serves, from its `describe`.
func registeredComponents(t *testing.T, p *lab.PackerEnv) []string {
	t.Helper()
	res := p.Run(t, "plugins", "installed")
	var bin string
	for _, line := range strings.Split(res.Output, "\n") {
		if strings.Contains(line, "github.com/golden-ami/golden/packer-plugin-golden") {
			bin = strings.TrimSpace(line)
		}
	}
	if bin == "" {
		t.Fatalf("packer plugins installed lists no golden plugin:\n%s", res.Output)
	}
	out, err := exec.Command(bin, "describe").Output()
	if err != nil {
		t.Fatalf("%s describe: %v", bin, err)
	}
	var d struct {
		Builders       []string `json:"builders"`
		Provisioners   []string `json:"provisioners"`
		PostProcessors []string `json:"post_processors"`
		Datasources    []string `json:"datasources"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("describe: %v\n%s", err, out)
	}
	var names []string
	for _, kind := range [][]string{d.Builders, d.Provisioners, d.PostProcessors, d.Datasources} {
		for _, n := range kind {
			names = append(names, "golden-"+n)
		}
	}
	return names
}

// examplesSeed is what the layered examples find: the validated golden images of the pipelines the
// other examples build (example/demo-seed.json holds the demo's).
const examplesSeed = `{"regions": {"us-east-1": {"images": [
  {"id": "ami-0e1a2b3c4d5e60001", "name": "golden-ubuntu-22.04-20261101", "creationDate": "2026-11-01T02:00:00Z",
   "tags": {"golden:pipeline": "golden-ubuntu-22.04", "golden:validation": "passed", "golden:harden-score": "98.2"}},
  {"id": "ami-0e1a2b3c4d5e60002", "name": "golden-ubuntu-22.04-20261108", "creationDate": "2026-11-08T02:00:00Z",
   "tags": {"golden:pipeline": "golden-ubuntu-22.04", "golden:validation": "failed"}}]}}}`

// TestExamplesValidate runs the real `packer validate` on every template under example/ (and on
// each with the variable files meant for it), with the
// simulator as AWS and the official amazon plugin installed for the templates that compose with
// amazon-ebs. Templates with data sources are validated twice: as `packer validate` does by default,
// where Packer runs no data source and passes "<unknown>" for what they would give (the components
// must accept it), and with -evaluate-datasources, so that their data sources run against the
// simulator (seeded with examplesSeed) and what the sources receive from them is validated too. A template that uses a component this build of the plugin does not
// register (one still being written) is skipped, naming it. Variables without defaults get test
// values.
func TestExamplesValidate(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	root := lab.RepoRoot(t)
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	seed, err := ec2sim.DecodeSeed(strings.NewReader(examplesSeed))
	if err != nil {
		t.Fatal(err)
	}
	demoSeed, err := ec2sim.ReadSeedFile(filepath.Join(root, "example", "demo-seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []ec2sim.SeedFile{seed, demoSeed} {
		if err := sim.Seed(s); err != nil {
			t.Fatal(err)
		}
	}
	p := lab.Packer(t)
	p.UseSim(sim)
	p.UseAmazonPlugin(t)
	registered := registeredComponents(t, p)

	key := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	// Values for the variables the templates leave to the command line.
	vars := map[string][]string{
		"harden.pkr.hcl": {"-var", "key=" + key},
	}

	checks := exampleChecks(t, root)
	if len(checks) < 11 {
		t.Fatalf("only %d templates and variable files under example/: %v", len(checks), checks)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			src, err := os.ReadFile(c.template)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range componentUse.FindAllStringSubmatch(string(src), -1) {
				if name := "golden-" + m[1]; !slices.Contains(registered, name) {
					t.Skipf("%s uses %s, which this build of the plugin does not register yet (it registers %v)", c.name, name, registered)
				}
			}
			args := append([]string{"validate"}, vars[filepath.Base(c.template)]...)
			if c.varFile != "" {
				args = append(args, "-var-file="+c.varFile)
			}
			runs := [][]string{args}
			if dataSource.Match(src) {
				runs = append(runs, append(slices.Clone(args), "-evaluate-datasources"))
			}
			for _, args := range runs {
				res := p.Run(t, append(args, c.template)...)
				if res.ExitCode != 0 || !strings.Contains(res.Output, "The configuration is valid.") {
					t.Errorf("packer %s %s exited %d:\n%s", strings.Join(args, " "), c.name, res.ExitCode, res.Output)
				}
			}
		})
	}
}

// TestExampleWorkflows: the GitHub Actions workflows under example/github-actions/ are YAML with
// triggers and jobs, every step runs or uses something, and the packer commands they run name
// templates that exist.
func TestExampleWorkflows(t *testing.T) {
	t.Parallel()
	root := lab.RepoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "example", "github-actions", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 {
		t.Fatalf("want the validate and build workflows under example/github-actions/, found %v", files)
	}
	template := regexp.MustCompile(`example/[A-Za-z0-9._/-]+\.pkr\.hcl`)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Name string                    `yaml:"name"`
			On   yaml.Node                 `yaml:"on"`
			Jobs map[string]map[string]any `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if wf.Name == "" || wf.On.Kind == 0 || len(wf.Jobs) == 0 {
			t.Errorf("%s: want name, on and jobs; got name %q, %d jobs", file, wf.Name, len(wf.Jobs))
		}
		for name, job := range wf.Jobs {
			steps, _ := job["steps"].([]any)
			if len(steps) == 0 {
				t.Errorf("%s: job %s has no steps", file, name)
			}
			for i, s := range steps {
				step, _ := s.(map[string]any)
				if step["run"] == nil && step["uses"] == nil {
					t.Errorf("%s: job %s step %d neither runs nor uses anything", file, name, i+1)
				}
			}
		}
		for _, ref := range template.FindAllString(string(data), -1) {
			if _, err := os.Stat(filepath.Join(root, ref)); err != nil {
				t.Errorf("%s names %s, which does not exist", file, ref)
			}
		}
	}
}

// TestExampleTerraform checks example/terraform/ with the terraform binary when there is one:
// `terraform fmt -check` on all of it, then `terraform init -backend=false` and `terraform
// validate` in each configuration under examples/ (which use the modules) when the AWS provider
// can be installed (init needs the provider registry).
func TestExampleTerraform(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform is not installed: example/terraform/ not checked")
	}
	// A copy: init writes a lock file next to the configuration.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(lab.RepoRoot(t), "example", "terraform"))); err != nil {
		t.Fatal(err)
	}
	run := func(sub string, args ...string) (string, error) {
		cmd := exec.Command(tf, args...)
		cmd.Dir = filepath.Join(dir, sub)
		cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "TF_DATA_DIR="+filepath.Join(t.TempDir(), "tf"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(".", "fmt", "-check", "-recursive", "-diff"); err != nil {
		t.Fatalf("terraform fmt -check: %v\n%s", err, out)
	}
	roots, err := filepath.Glob(filepath.Join(dir, "examples", "*"))
	if err != nil || len(roots) == 0 {
		t.Fatalf("no configuration under example/terraform/examples/ (%v)", err)
	}
	for _, root := range roots {
		sub, _ := filepath.Rel(dir, root)
		t.Run(sub, func(t *testing.T) {
			if out, err := run(sub, "init", "-backend=false", "-input=false", "-no-color"); err != nil {
				t.Skipf("terraform init could not install the providers (it needs the provider registry), so example/terraform/%s is only format-checked:\n%s", sub, out)
			}
			if out, err := run(sub, "validate", "-no-color"); err != nil {
				t.Errorf("terraform validate example/terraform/%s: %v\n%s", sub, err, out)
			}
		})
	}
}

// TestReadmeTemplateIsAnExample keeps the README's template one that TestExamplesValidate checks:
// its first HCL block is a part of example/quickstart.pkr.hcl, word for word.
func TestReadmeTemplateIsAnExample(t *testing.T) {
	t.Parallel()
	root := lab.RepoRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```hcl\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md has no ```hcl block")
	}
	example, err := os.ReadFile(filepath.Join(root, "example", "quickstart.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(example), string(block[1])) {
		t.Errorf("README.md's first template is not in example/quickstart.pkr.hcl:\n%s", block[1])
	}
}
