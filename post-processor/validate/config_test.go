package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// minimal is the smallest valid configuration.
func minimal() map[string]interface{} {
	return map[string]interface{}{
		"region":       "us-east-1",
		"ssh_username": "admin",
		"service":      []map[string]interface{}{{"name": "ssh"}},
	}
}

func with(extra map[string]interface{}) map[string]interface{} {
	m := minimal()
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.Prepare(minimal()); err != nil {
		t.Fatal(err)
	}
	if c.InstanceType != DefaultInstanceType || c.OnFailure != OnFailureKeep || c.CloudInitTimeout != DefaultCloudInitTimeout ||
		c.HardenReportPath != DefaultHardenReportPath || c.MetadataOptions.HTTPTokens != "required" || !c.SweepOrphans.True() {
		t.Errorf("defaults: %+v", c)
	}
	if got := len(c.Probes()); got != 1 {
		t.Errorf("%d probes, want 1", got)
	}
}

func TestConfigRegionMayComeFromTheArtifact(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	var c Config
	if err := c.Prepare(with(map[string]interface{}{"region": nil})); err != nil {
		t.Fatal(err)
	}
	if !c.regionFromArtifact {
		t.Error("regionFromArtifact not set")
	}
}

// Every option is checked at `packer validate`, and the message names it.
func TestConfigErrorsNameTheOption(t *testing.T) {
	dir := t.TempDir()
	goss := filepath.Join(dir, "goss.yaml")
	if err := os.WriteFile(goss, []byte("interface:\n  eth0:\n    exists: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		extra map[string]interface{}
		want  string
	}{
		{"on_failure", map[string]interface{}{"on_failure": "delete"}, `on_failure: "delete" is not one of keep, deprecate, deregister`},
		{"keep and deregister", map[string]interface{}{"on_failure": "deregister", "keep_on_failure": true}, "keep_on_failure: cannot be combined"},
		{"target region", map[string]interface{}{"target": []map[string]interface{}{{"region": "mars-1"}}}, `target[0].region: unknown region "mars-1"`},
		{"target type", map[string]interface{}{"target": []map[string]interface{}{{"instance_type": "big"}}}, `target[0].instance_type: "big" is not an instance type`},
		{"target subnet", map[string]interface{}{"target": []map[string]interface{}{{"subnet_id": "net-1"}}}, `target[0].subnet_id: "net-1" is not a subnet id`},
		{"target twice", map[string]interface{}{"target": []map[string]interface{}{{"region": "us-east-1"}, {"region": "us-east-1"}}}, "target[1]: region \"us-east-1\" and instance type \"\" are listed twice"},
		{"probe_timeout", map[string]interface{}{"probe_timeout": "-1s"}, "probe_timeout: -1s is negative"},
		{"probe_interval", map[string]interface{}{"probe_interval": "5m"}, "probe_interval: 5m0s is longer than probe_timeout"},
		{"cloud_init_timeout", map[string]interface{}{"cloud_init_timeout": "-5m"}, "cloud_init_timeout: -5m0s is negative"},
		{"harden_report_path", map[string]interface{}{"harden_report_path": "report.json"}, `harden_report_path: "report.json" is not an absolute path`},
		{"required_tags", map[string]interface{}{"required_tags": []string{"=x"}}, `required_tags: "=x" has no key`},
		{"goss_file missing", map[string]interface{}{"goss_file": filepath.Join(dir, "none.yaml")}, "goss_file: open "},
		{"goss_file unmappable", map[string]interface{}{"goss_file": goss}, `goss_file: ` + goss + `: line 1: goss resource type "interface" has no golden-validate probe`},
		{"service name", map[string]interface{}{"service": []map[string]interface{}{{"name": ""}}}, `service "": name: required`},
		{"probe timeout", map[string]interface{}{"file": []map[string]interface{}{{"path": "/etc/x", "timeout": "soon"}}}, `file "/etc/x": timeout: "soon" is not a duration`},
		{"no probe", map[string]interface{}{"service": nil}, "no probe: add probe blocks"},
		{"communicator none", map[string]interface{}{"communicator": "none"}, "communicator: golden-validate probes the instance over SSH"},
		{"junit_report folder", map[string]interface{}{"junit_report": "reports/"}, `junit_report: "reports/" is a folder`},
		{"launch option", map[string]interface{}{"metadata_options": map[string]interface{}{"http_tokens": "maybe"}}, `metadata_options.http_tokens: "maybe" is not one of required, optional`},
		{"ssh_username", map[string]interface{}{"ssh_username": nil}, "ssh_username"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			err := c.Prepare(with(tc.extra))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigBuiltInsCount(t *testing.T) {
	var c Config
	err := c.Prepare(with(map[string]interface{}{"service": nil, "imdsv2_enforced": true, "required_tags": []string{"Team", "Env=prod"}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Probes()); got != 1 {
		t.Errorf("%d script probes, want 1 (imdsv2_enforced)", got)
	}
}
