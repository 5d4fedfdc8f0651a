// Package compliance runs two independent scanners, Lynis and OpenSCAP with the SCAP Security
// Guide's Debian content, on lab machines (test/e2e/lab) before and after golden-harden, as a
// customer's auditor would run them: live, on the running machine, after a reboot.
//
// A lab machine is a container. What a container cannot show (auditd running, kernel.* and fs.*
// parameters, which are the host kernel's, partitions) fails there whatever the image says; each
// result therefore carries the scanner's own figure and, next to it, the figure without those
// findings, each exclusion with its reason and with the machine's own evidence that its boot
// configuration is right (auditd enabled, the value systemd-sysctl sets at boot). See
// docs/compliance.md.
package compliance

import (
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// The SCAP Security Guide's Debian content, as Debian packages it: trixie's ssg-debian is the
// first to carry Debian 12 content. Pinned: a new version changes rules and scores.
const (
	SSGVersion    = "0.1.76-1"
	SSGSHA256     = "f6880719015c16e8e221bc2503c0e5a9f83d6a09fc6f9292d3522e46bf4fc9d7"
	SSGDatastream = "ssg-debian12-ds.xml"
	// StandardProfile is the SSG profile the targets are stated for.
	StandardProfile = "xccdf_org.ssgproject.content_profile_standard"
	// containerProfile is the tailored profile: StandardProfile without what a container cannot show.
	containerProfile = "xccdf_org.golden_profile_standard_container"
	ruleIDPrefix     = "xccdf_org.ssgproject.content_rule_"
	// workDir on the machine; kept across reboots.
	workDir = "/var/tmp/golden-compliance"
)

var (
	//go:embed openscap.sh
	openscapScript string
	//go:embed lynis.sh
	lynisScript string
	//go:embed facts.sh
	factsScript string
)

// runScript runs one of this package's scripts as root on the machine, the script on stdin.
func runScript(t *testing.T, h *lab.TargetHost, script string, args ...string) string {
	t.Helper()
	c := h.Client(t)
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("compliance: ssh session on %s: %v", h.Name, err)
	}
	defer s.Close()
	s.Stdin = strings.NewReader(script)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	out, err := s.CombinedOutput("sudo sh -s -- " + strings.Join(quoted, " "))
	if err != nil {
		t.Fatalf("compliance: %s on %s: %v\n%s", strings.Join(args, " "), h.Name, err, out)
	}
	return string(out)
}

// Exclusion is a finding left out of the adjusted figure, with why.
type Exclusion struct {
	ID  string `json:"id"`
	Why string `json:"why"`
}

// Facts is what the machine's boot configuration decides where a container cannot show it.
type Facts struct {
	Virt       string            `json:"virt"`        // systemd-detect-virt --container
	Units      map[string]string `json:"units"`       // systemctl is-enabled
	BootSysctl map[string]string `json:"boot_sysctl"` // the values systemd-sysctl sets at boot
}

// InContainer reports whether the machine is a container.
func (f Facts) InContainer() bool { return f.Virt != "" && f.Virt != "none" }

// ReadFacts collects the machine's facts.
func ReadFacts(t *testing.T, h *lab.TargetHost) Facts {
	t.Helper()
	f := Facts{Units: map[string]string{}, BootSysctl: map[string]string{}}
	for _, line := range strings.Split(runScript(t, h, factsScript), "\n") {
		w := strings.Fields(line)
		switch {
		case len(w) == 2 && w[0] == "virt":
			f.Virt = w[1]
		case len(w) == 3 && w[0] == "unit":
			f.Units[w[1]] = w[2]
		case len(w) >= 3 && w[0] == "sysctl":
			f.BootSysctl[w[1]] = strings.Join(w[2:], " ")
		}
	}
	return f
}

// kernelOwned: parameters a container reads from the host kernel and cannot set.
func kernelOwned(key string) bool {
	return strings.HasPrefix(key, "kernel.") || strings.HasPrefix(key, "fs.") || strings.HasPrefix(key, "dev.")
}

// auditdExcuse is the exclusion of "auditd is running" in a container, when the unit is enabled.
func (f Facts) auditdExcuse() (string, bool) {
	if !f.InContainer() || f.Units["auditd"] != "enabled" {
		return "", false
	}
	return fmt.Sprintf("auditd cannot run in a container (%s): the kernel's audit interface is not namespaced; auditd.service is enabled and starts at boot on a VM", f.Virt), true
}

// sysctlExcuse is the exclusion of a kernel-owned parameter whose live value a container shows from
// the host, when the machine's boot configuration sets one of the wanted values.
func (f Facts) sysctlExcuse(key string, want ...string) (string, bool) {
	if !f.InContainer() || !kernelOwned(key) {
		return "", false
	}
	boot, ok := f.BootSysctl[key]
	if !ok {
		return "", false
	}
	for _, w := range want {
		if boot == w {
			return fmt.Sprintf("%s is the host kernel's in a container; the machine's sysctl.d sets %s = %s at boot", key, key, boot), true
		}
	}
	return "", false
}

// OpenSCAP is one evaluation of the standard profile.
type OpenSCAP struct {
	Scanner  string            `json:"scanner"`  // oscap version
	Score    float64           `json:"score"`    // oscap's score of the standard profile
	Adjusted float64           `json:"adjusted"` // oscap's score of the tailored profile (= Score without exclusions)
	Rules    map[string]string `json:"rules"`    // rule (without the SSG prefix) -> result, standard profile
	Excluded []Exclusion       `json:"excluded"`
	Failed   []string          `json:"failed"` // rules failing in the adjusted evaluation
	// Costs is what each rule failing in the standard profile costs its score: the points the
	// score would gain if that rule alone passed (oscap's default model, a group the mean of its
	// children), most first.
	Costs []RuleCost `json:"costs"`
}

// PrepareOpenSCAP installs the scanner from the machine's archive and fetches the pinned content.
// It runs before the reboot: the scan is of the rebooted machine.
func PrepareOpenSCAP(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	runScript(t, h, openscapScript, "prepare", SSGVersion, SSGSHA256, SSGDatastream)
}

// sysctlRules are the kernel-parameter rules of the standard profile: rule -> key and wanted value.
var sysctlRules = map[string][2]string{
	"sysctl_fs_protected_hardlinks":    {"fs.protected_hardlinks", "1"},
	"sysctl_fs_protected_symlinks":     {"fs.protected_symlinks", "1"},
	"sysctl_fs_suid_dumpable":          {"fs.suid_dumpable", "0"},
	"sysctl_kernel_randomize_va_space": {"kernel.randomize_va_space", "2"},
}

// openscapExclusions are the rules of a raw evaluation that a container cannot pass.
func openscapExclusions(rules map[string]string, f Facts) []Exclusion {
	var out []Exclusion
	for _, id := range sortedKeys(rules) {
		switch {
		case !f.InContainer():
		case strings.HasPrefix(id, "partition_for_"):
			out = append(out, Exclusion{id, "a container has no block device: its root is one overlay file system, and nspawn mounts /tmp; on EC2 the image's volume layout decides these, not a provisioner"})
		case id == "service_auditd_enabled" && rules[id] == "fail":
			if why, ok := f.auditdExcuse(); ok {
				out = append(out, Exclusion{id, why})
			}
		case rules[id] == "fail":
			if kv, ok := sysctlRules[id]; ok {
				if why, ok := f.sysctlExcuse(kv[0], kv[1]); ok {
					out = append(out, Exclusion{id, why})
				}
			}
		}
	}
	return out
}

// tailoring is an XCCDF tailoring file: StandardProfile with the excluded rules deselected, so
// that oscap itself computes the adjusted score.
func tailoring(excluded []Exclusion) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<xccdf-1.2:Tailoring xmlns:xccdf-1.2="http://checklists.nist.gov/xccdf/1.2" id="xccdf_org.golden_tailoring_container">
  <xccdf-1.2:version time="2026-01-01T00:00:00">1</xccdf-1.2:version>
  <xccdf-1.2:Profile id="` + containerProfile + `" extends="` + StandardProfile + `">
    <xccdf-1.2:title>Standard, without the findings a container cannot show</xccdf-1.2:title>
`)
	for _, e := range excluded {
		fmt.Fprintf(&b, "    <xccdf-1.2:select idref=\"%s%s\" selected=\"false\"/>\n", ruleIDPrefix, e.ID)
	}
	b.WriteString("  </xccdf-1.2:Profile>\n</xccdf-1.2:Tailoring>\n")
	return b.String()
}

type oscapRun struct {
	scanner string
	score   float64
	rules   map[string]string
}

func parseOscap(t *testing.T, out string) oscapRun {
	t.Helper()
	r := oscapRun{rules: map[string]string{}, score: -1}
	for _, line := range strings.Split(out, "\n") {
		w := strings.Fields(line)
		switch {
		case len(w) == 2 && w[0] == "scanner":
			r.scanner = "oscap " + w[1]
		case len(w) == 3 && w[0] == "rule":
			r.rules[strings.TrimPrefix(w[2], ruleIDPrefix)] = w[1]
		case len(w) == 2 && w[0] == "score":
			v, err := strconv.ParseFloat(w[1], 64)
			if err != nil {
				t.Fatalf("compliance: oscap score %q: %v", w[1], err)
			}
			r.score = v
		}
	}
	if r.score < 0 || len(r.rules) == 0 {
		t.Fatalf("compliance: oscap printed no score or no rule:\n%s", out)
	}
	return r
}

// ScanOpenSCAP evaluates the standard profile on the machine, then, when the machine is a
// container, the tailored profile without what a container cannot show.
func ScanOpenSCAP(t *testing.T, h *lab.TargetHost, f Facts) OpenSCAP {
	t.Helper()
	raw := parseOscap(t, runScript(t, h, openscapScript, "eval", "standard", StandardProfile))
	res := OpenSCAP{Scanner: raw.scanner, Score: raw.score, Adjusted: raw.score, Rules: raw.rules, Excluded: openscapExclusions(raw.rules, f)}
	doc, err := parseResults(strings.NewReader(h.MustRun(t, "sudo cat "+workDir+"/standard.xml")))
	if err != nil {
		t.Fatalf("compliance: oscap's results document: %v", err)
	}
	var score float64
	score, res.Costs = ruleCosts(doc)
	if math.Abs(score-raw.score) > 1e-3 {
		t.Errorf("compliance: the results' default score is %.6f by their groups, oscap printed %.6f", score, raw.score)
	}
	adj := raw
	if len(res.Excluded) > 0 {
		path := workDir + "/tailoring.xml"
		writeFile(t, h, path, tailoring(res.Excluded))
		adj = parseOscap(t, runScript(t, h, openscapScript, "eval", "tailored", containerProfile, path))
		res.Adjusted = adj.score
	}
	for _, id := range sortedKeys(adj.rules) {
		if adj.rules[id] == "fail" {
			res.Failed = append(res.Failed, id)
		}
	}
	return res
}

func writeFile(t *testing.T, h *lab.TargetHost, path, content string) {
	t.Helper()
	c := h.Client(t)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Stdin = strings.NewReader(content)
	if out, err := s.CombinedOutput("sudo tee " + path + " >/dev/null"); err != nil {
		t.Fatalf("compliance: writing %s: %v\n%s", path, err, out)
	}
}

// Lynis is one Lynis audit.
type Lynis struct {
	Scanner  string      `json:"scanner"`  // "Lynis VERSION"
	Index    int         `json:"index"`    // the hardening index Lynis reports
	Points   [2]int      `json:"points"`   // hardening points earned, possible
	Adjusted int         `json:"adjusted"` // the index without the exclusions
	Excluded []Exclusion `json:"excluded"`
	Lost     []Lost      `json:"lost"` // where the adjusted index loses points, most first
}

// Lost is the points one Lynis test did not award.
type Lost struct {
	Test   string `json:"test"`
	Points int    `json:"points"`
	Of     int    `json:"of"`
	Why    string `json:"why,omitempty"` // Lynis' suggestion or warning
}

type hpAward struct {
	test     string
	got, max int
	key      string
	want     []string
}

// ScanLynis runs Lynis on the machine and computes the index without what a container cannot
// show: the same as a Lynis profile with skip-test=KRNL-6000:KEY for each kernel-owned parameter
// the boot configuration sets to the expected value, and skip-test=ACCT-9628 when auditd is
// enabled.
func ScanLynis(t *testing.T, h *lab.TargetHost, f Facts) Lynis {
	t.Helper()
	out := runScript(t, h, lynisScript)
	var res Lynis
	res.Index = -1
	var awards []hpAward
	why := map[string][]string{}
	results := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		w := strings.Fields(line)
		switch {
		case len(w) == 2 && w[0] == "scanner":
			res.Scanner = "Lynis " + w[1]
		case len(w) == 2 && w[0] == "index":
			res.Index, _ = strconv.Atoi(w[1])
		case len(w) == 6 && w[0] == "hp":
			got, _ := strconv.Atoi(w[2])
			max, _ := strconv.Atoi(w[3])
			awards = append(awards, hpAward{test: w[1], got: got, max: max, key: w[4], want: strings.Split(w[5], ",")})
		case len(w) >= 3 && (w[0] == "suggestion" || w[0] == "warning"):
			why[w[1]] = append(why[w[1]], strings.Join(w[2:], " "))
		case len(w) >= 3 && w[0] == "result":
			results[w[1]] = append(results[w[1]], strings.Join(w[2:], " "))
		}
	}
	if res.Index < 0 || len(awards) == 0 {
		t.Fatalf("compliance: Lynis printed no index or no award:\n%s", out)
	}
	got, max, adjGot, adjMax := 0, 0, 0, 0
	lost := map[string]*Lost{}
	var order []string
	for _, a := range awards {
		got += a.got
		max += a.max
		if a.got < a.max {
			excuse, ok := "", false
			switch {
			case a.test == "KRNL-6000" && a.key != "-":
				excuse, ok = f.sysctlExcuse(a.key, a.want...)
			case a.test == "ACCT-9628":
				excuse, ok = f.auditdExcuse()
			}
			if ok {
				id := a.test
				if a.key != "-" {
					id += ":" + a.key
				}
				res.Excluded = append(res.Excluded, Exclusion{id, excuse})
				continue
			}
		}
		adjGot += a.got
		adjMax += a.max
		id, reason := a.test, strings.Join(why[a.test], "; ")
		if a.test == "KRNL-6000" && a.key != "-" {
			// One line per parameter: which one, and what Lynis read.
			id = a.test + ":" + a.key
			reason = resultAbout(results[a.test], "sysctl key "+a.key+" ")
		} else if reason == "" && len(results[a.test]) > 0 {
			reason = results[a.test][len(results[a.test])-1]
		}
		l := lost[id]
		if l == nil {
			l = &Lost{Test: id, Why: reason}
			lost[id] = l
			order = append(order, id)
		}
		l.Points += a.max - a.got
		l.Of += a.max
	}
	res.Points = [2]int{got, max}
	// Lynis' own arithmetic: an integer percentage, rounded down.
	if max == 0 || got*100/max != res.Index {
		t.Fatalf("compliance: Lynis reports index %d, its awards add up to %d of %d", res.Index, got, max)
	}
	res.Adjusted = adjGot * 100 / adjMax
	for _, test := range order {
		if lost[test].Points > 0 {
			res.Lost = append(res.Lost, *lost[test])
		}
	}
	sort.Slice(res.Lost, func(i, j int) bool {
		if res.Lost[i].Points != res.Lost[j].Points {
			return res.Lost[i].Points > res.Lost[j].Points
		}
		return res.Lost[i].Test < res.Lost[j].Test
	})
	return res
}

// resultAbout is the first of Lynis' result lines that contains what.
func resultAbout(lines []string, what string) string {
	for _, l := range lines {
		if strings.Contains(l+" ", what) {
			return l
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// round1 rounds to one decimal, as the tables print scores.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// PrepareLynis installs Lynis from the machine's archive (before the reboot, like the content).
func PrepareLynis(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	runScript(t, h, lynisScript, "install")
}
