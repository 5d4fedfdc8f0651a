// Command benchreport is the bookkeeping of `make bench`: `benchreport env DIR` records the machine
// and its caches before the suites run, and `benchreport merge DIR RESULTS` prints every suite's
// rows as one table and writes the run (environment, rows, assumptions) to RESULTS/<time>-<commit>.json
// and the table to RESULTS/latest.md. `benchreport ldflags` prints the -ldflags of the plugin's
// test build (the end-to-end harness's), which scripts/bench.sh builds once for every suite.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/golden-ami/packer-plugin-golden/bench/internal/benchrec"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// Env is the machine and the state of what the benchmarks reuse.
type Env struct {
	Time         time.Time `json:"time"`
	Commit       string    `json:"commit"`
	Dirty        bool      `json:"dirty"`
	Cores        int       `json:"cores"`
	Load         string    `json:"load"`
	Kernel       string    `json:"kernel"`
	Go           string    `json:"go"`
	Packer       string    `json:"packer"`
	Ansible      string    `json:"ansible,omitempty"`
	HostAptProxy string    `json:"host_apt_proxy,omitempty"`
	// Speed is how fast the machine was (tables of different runs compare only beside it).
	Speed HostSpeed `json:"host_speed"`
	// LabImages are the lab's cached images: present before the suites ran (warm) or built by
	// them (cold), and what each holds beyond its base recipe.
	LabImages []LabImage `json:"lab_images"`
}

// LabImage is one cached image of the lab folder.
type LabImage struct {
	Name  string    `json:"name"`
	Built time.Time `json:"built"`
	// Extra are the packages baked in on top of the recipe (the hardening variant's list).
	Extra []string `json:"extra_packages,omitempty"`
	// Cold is set by merge for an image built while the benchmarks ran.
	Cold bool `json:"built_during_bench,omitempty"`
}

// Run is one `make bench`: where and how it ran, and every suite's rows.
type Run struct {
	Env    Env               `json:"env"`
	EnvEnd Env               `json:"env_end"`
	Suites []*benchrec.Suite `json:"suites"`
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "ldflags" {
		fmt.Println(lab.DevVersionLDFlags())
		return
	}
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: benchreport env DIR | merge DIR RESULTS | ldflags")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "env":
		err = writeJSON(filepath.Join(os.Args[2], "env.json"), environment())
	case "merge":
		if len(os.Args) < 4 {
			err = fmt.Errorf("merge needs DIR and RESULTS")
			break
		}
		err = merge(os.Args[2], os.Args[3])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func merge(dir, results string) error {
	var run Run
	if err := readJSON(filepath.Join(dir, "env.json"), &run.Env); err != nil {
		return err
	}
	run.EnvEnd = environment()
	before := map[string]bool{}
	for _, img := range run.Env.LabImages {
		before[img.Name] = true
	}
	for i, img := range run.EnvEnd.LabImages {
		run.EnvEnd.LabImages[i].Cold = !before[img.Name]
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if filepath.Base(f) == "env.json" {
			continue
		}
		s := &benchrec.Suite{}
		if err := readJSON(f, s); err != nil {
			return err
		}
		run.Suites = append(run.Suites, s)
	}
	if len(run.Suites) == 0 {
		return fmt.Errorf("no suite left its results in %s", dir)
	}
	table := benchrec.Table(run.Suites) + envText(run)
	fmt.Print(table)

	stamp := run.Env.Time.Format("20060102T150405Z")
	commit := run.Env.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if err := os.MkdirAll(results, 0o755); err != nil {
		return err
	}
	name := filepath.Join(results, stamp+"-"+commit+".json")
	if err := writeJSON(name, run); err != nil {
		return err
	}
	md := fmt.Sprintf("# Latest `make bench`\n\n%s, commit %s%s, %d core(s); results in [%s](%s).\n\n```\n%s```\n",
		run.Env.Time.Format(time.RFC3339), commit, map[bool]string{true: " (uncommitted changes)", false: ""}[run.Env.Dirty],
		run.Env.Cores, filepath.Base(name), filepath.Base(name), strings.TrimPrefix(table, "\n"))
	if err := os.WriteFile(filepath.Join(results, "latest.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nwritten: %s, %s\n", name, filepath.Join(results, "latest.md"))
	return nil
}

// envText is the environment under the table: machine, load, and which caches were warm.
func envText(run Run) string {
	e := run.Env
	var b strings.Builder
	fmt.Fprintf(&b, "\nmachine: %d core(s), kernel %s, %s, %s", e.Cores, e.Kernel, e.Go, e.Packer)
	if e.Ansible != "" {
		fmt.Fprintf(&b, ", %s", e.Ansible)
	}
	fmt.Fprintf(&b, "\ncommit %s%s; load %s at start, %s at end\n", e.Commit, map[bool]string{true: " (uncommitted changes)", false: ""}[e.Dirty],
		e.Load, run.EnvEnd.Load)
	b.WriteString(hostSpeedText(e.Speed, run.EnvEnd.Speed))
	if e.HostAptProxy != "" {
		fmt.Fprintf(&b, "host apt proxy: %s (its cache is outside the bench's view)\n", e.HostAptProxy)
	}
	b.WriteString("lab images:\n")
	for _, img := range run.EnvEnd.LabImages {
		state := "warm (cached before the bench)"
		if img.Cold {
			state = "COLD (built during the bench; its build is not in any figure)"
		}
		extra := ""
		if len(img.Extra) > 0 {
			extra = ", holds " + strings.Join(img.Extra, " ")
		}
		fmt.Fprintf(&b, "  %s: built %s, %s%s\n", img.Name, img.Built.Format(time.RFC3339), state, extra)
	}
	return b.String()
}

func environment() Env {
	e := Env{
		Time:   time.Now().UTC(),
		Commit: output("git", "rev-parse", "HEAD"),
		Dirty:  output("git", "status", "--porcelain", "--untracked-files=no") != "",
		Cores:  runtime.NumCPU(),
		Load:   benchrec.LoadAverage(),
		Kernel: output("uname", "-r"),
		Go:     runtime.Version(),
		Packer: output(".tools/packer", "version"),
		Speed:  measureHostSpeed(),
	}
	if v := output("ansible-playbook", "--version"); v != "" {
		e.Ansible = strings.SplitN(v, "\n", 2)[0]
	}
	if v := output("apt-config", "dump", "--format", "%v", "Acquire::http::Proxy"); v != "" && v != "DIRECT" {
		e.HostAptProxy = "set"
	}
	// Where test/target/target.sh keeps the images: GOLDEN_LAB_IMAGES, or the lab folder's images/.
	images := os.Getenv("GOLDEN_LAB_IMAGES")
	if images == "" {
		lab := os.Getenv("GOLDEN_LAB_DIR")
		if lab == "" {
			lab = ".lab"
		}
		images = filepath.Join(lab, "images")
	}
	dirs, _ := filepath.Glob(filepath.Join(images, "*"))
	for _, d := range dirs {
		st, err := os.Stat(filepath.Join(d, "complete"))
		if err != nil {
			continue
		}
		e.LabImages = append(e.LabImages, LabImage{Name: filepath.Base(d), Built: st.ModTime().UTC(), Extra: extraPackages(filepath.Join(d, "recipe"))})
	}
	return e
}

// extraPackages reads the "--- extra packages" section of an image's recipe file.
func extraPackages(recipe string) []string {
	b, err := os.ReadFile(recipe)
	if err != nil {
		return nil
	}
	_, after, ok := strings.Cut(string(b), "--- extra packages\n")
	if !ok {
		return nil
	}
	return strings.Fields(after)
}

func output(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
