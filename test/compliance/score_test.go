package compliance

import (
	"math"
	"os"
	"strings"
	"testing"
)

// The default score of the example row's last scan, computed from its groups as oscap computes it
// (oscap printed 63.055553), and what each failing rule costs: a lone failing rule under a top
// group of three (auditd's service beside its package) costs a sixth of the score, one of five
// partitions a forty-fifth.
func TestDefaultScoreAndRuleCosts(t *testing.T) {
	f, err := os.Open("testdata/standard-results.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := parseResults(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.results) != 44 {
		t.Errorf("%d rule results, want 44", len(r.results))
	}
	score, costs := ruleCosts(r)
	if math.Abs(score-63.055553) > 1e-4 {
		t.Errorf("score %.6f, oscap printed 63.055553", score)
	}
	want := []RuleCost{
		{"service_auditd_enabled", "auditing", 16.67},
		{"package_ntp_installed", "ntp", 8.33},
		{"partition_for_home", "disk_partitioning", 2.22},
		{"partition_for_var", "disk_partitioning", 2.22},
		{"partition_for_var_log", "disk_partitioning", 2.22},
		{"partition_for_var_log_audit", "disk_partitioning", 2.22},
		{"sshd_allow_only_protocol2", "ssh_server", 1.67},
		{"sysctl_fs_protected_symlinks", "files", 1.39},
	}
	if len(costs) != len(want) {
		t.Fatalf("costs %v, want %v", costs, want)
	}
	for i := range want {
		if costs[i] != want[i] {
			t.Errorf("cost %d: %+v, want %+v", i, costs[i], want[i])
		}
	}
	// With what the container cannot show deselected, as the tailoring does: oscap printed 90.
	for _, id := range []string{"partition_for_home", "partition_for_tmp", "partition_for_var", "partition_for_var_log",
		"partition_for_var_log_audit", "service_auditd_enabled", "sysctl_fs_protected_symlinks"} {
		r.results[id] = "notselected"
	}
	if s := defaultScore(r.root, r.results); math.Abs(s-90) > 1e-9 {
		t.Errorf("tailored score %.6f, oscap printed 90", s)
	}
}

// Weights count, rules that were not scored do not, and an error scores as a failure.
func TestDefaultScoreWeightsAndResults(t *testing.T) {
	const doc = `<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2">
  <Group id="a" weight="3"><Rule id="r1"/><Rule id="r2" weight="0.5"/></Group>
  <Group id="b"><Rule id="r3"/><Rule id="r4"/></Group>
  <Group id="c"><Rule id="r5"/></Group>
  <TestResult>
    <rule-result idref="r1"><result>pass</result></rule-result>
    <rule-result idref="r2"><result>fail</result></rule-result>
    <rule-result idref="r3"><result>error</result></rule-result>
    <rule-result idref="r4"><result>notapplicable</result></rule-result>
    <rule-result idref="r5"><result>notselected</result></rule-result>
  </TestResult>
</Benchmark>`
	r, err := parseResults(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	// a: (100*1 + 0*0.5)/1.5 = 66.67, weight 3; b: 0, weight 1; c: not scored.
	if s, want := defaultScore(r.root, r.results), (100.0/1.5*3+0)/4; math.Abs(s-want) > 1e-9 {
		t.Errorf("score %.6f, want %.6f", s, want)
	}
}
