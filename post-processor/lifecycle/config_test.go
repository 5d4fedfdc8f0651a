package lifecycle

import (
	"strings"
	"testing"
	"time"
)

// validConfig is a configuration using every option that Prepare accepts.
func validConfig() map[string]interface{} {
	return map[string]interface{}{
		"region":         "us-east-1",
		"tags":           map[string]string{"Pipeline": "golden-ubuntu"},
		"snapshot_tags":  map[string]string{"Backup": "none"},
		"git_commit":     "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
		"git_ref":        "refs/heads/main",
		"harden_report":  "reports/harden.json",
		"copy_to":        []string{"us-west-2", "eu-west-1"},
		"encrypt_copies": true,
		"kms_key_ids":    map[string]string{"us-west-2": "alias/golden", "eu-west-1": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		"copy_timeout":   "90m",
		"poll_interval":  "5s",
		"share_with":     []string{"444455556666"},
		"share_with_org_arns": []string{
			"arn:aws:organizations::111122223333:organization/o-exampleorg1",
		},
		"share_with_ou_arns": []string{
			"arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-cdefgh34",
		},
		"deprecate_after":           "90d",
		"deregistration_protection": map[string]interface{}{"enabled": true, "with_cooldown": true},
		"ssm_parameter":             "/golden/ubuntu/latest",
		"manifest":                  "build/manifest.json",
		"prune": map[string]interface{}{
			"match_tags":          map[string]string{"Pipeline": "golden-ubuntu"},
			"name_pattern":        "golden-ubuntu-*",
			"keep_latest":         3,
			"older_than":          "720h",
			"regions":             []string{"us-east-1", "us-west-2"},
			"dry_run":             true,
			"price_per_gib_month": 0.045,
			"report":              "build/prune.json",
		},
		"dry_run": true,
	}
}

func TestPrepareAcceptsEveryOption(t *testing.T) {
	var c Config
	if err := c.Prepare(validConfig()); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if c.copyTimeout != 90*time.Minute || c.pollInterval != 5*time.Second || c.deprecateAfter != 90*24*time.Hour || c.olderThan != 720*time.Hour {
		t.Errorf("parsed durations: copy %s poll %s deprecate %s older %s", c.copyTimeout, c.pollInterval, c.deprecateAfter, c.olderThan)
	}
	p := c.policy()
	if p.KeepTag != DefaultKeepTag || !p.DeleteSnapshots || p.PricePerGiBMonth != 0.045 || p.KeepLatest != 3 {
		t.Errorf("policy defaults: %+v", p)
	}
}

func TestPrepareDefaults(t *testing.T) {
	var c Config
	if err := c.Prepare(map[string]interface{}{"region": "eu-west-1"}); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if c.copyTimeout != 2*time.Hour || c.pollInterval != 15*time.Second {
		t.Errorf("defaults: copy_timeout %s poll_interval %s", c.copyTimeout, c.pollInterval)
	}
	if c.Prune != nil {
		t.Errorf("prune set without a prune block")
	}
}

func TestPrepareRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]interface{})
		want []string // every fragment must appear in the error
	}{
		{"negative keep_latest", func(m map[string]interface{}) { prune(m)["keep_latest"] = -1 }, []string{"prune.keep_latest", "-1"}},
		{"unknown copy region", func(m map[string]interface{}) {
			m["copy_to"] = []string{"us-west-2", "eu-west-1", "mars-north-1"}
		}, []string{"copy_to", "mars-north-1"}},
		{"unknown prune region", func(m map[string]interface{}) { prune(m)["regions"] = []string{"us-east-9"} }, []string{"prune.regions", "us-east-9"}},
		{"duplicate copy region", func(m map[string]interface{}) { m["copy_to"] = []string{"us-west-2", "us-west-2", "eu-west-1"} }, []string{"copy_to", "twice"}},
		{"bad account id", func(m map[string]interface{}) { m["share_with"] = []string{"12345"} }, []string{"share_with", "12345", "12 digits"}},
		{"bad org arn", func(m map[string]interface{}) { m["share_with_org_arns"] = []string{"o-exampleorg1"} }, []string{"share_with_org_arns"}},
		{"bad ou arn", func(m map[string]interface{}) {
			m["share_with_ou_arns"] = []string{"arn:aws:organizations::111122223333:ou/ou-ab12"}
		}, []string{"share_with_ou_arns"}},
		{"bad deprecate_after", func(m map[string]interface{}) { m["deprecate_after"] = "ninety days" }, []string{"deprecate_after", "ninety days"}},
		{"deprecate beyond 10 years", func(m map[string]interface{}) { m["deprecate_after"] = "4000d" }, []string{"deprecate_after", "10 years"}},
		{"bad older_than", func(m map[string]interface{}) { prune(m)["older_than"] = "1 month" }, []string{"prune.older_than"}},
		{"bad copy_timeout", func(m map[string]interface{}) { m["copy_timeout"] = "soon" }, []string{"copy_timeout"}},
		{"poll too fast", func(m map[string]interface{}) { m["poll_interval"] = "10ms" }, []string{"poll_interval"}},
		{"kms region not copied to", func(m map[string]interface{}) {
			m["kms_key_ids"].(map[string]string)["ap-south-1"] = "alias/golden"
		}, []string{"kms_key_ids", "ap-south-1", "not in copy_to"}},
		{"bad kms key", func(m map[string]interface{}) { m["kms_key_ids"].(map[string]string)["us-west-2"] = "golden" }, []string{"kms_key_ids", "golden"}},
		{"shared copy with the AWS-managed key", func(m map[string]interface{}) {
			m["kms_key_ids"].(map[string]string)["us-west-2"] = "alias/aws/ebs"
		}, []string{"kms_key_ids", "AWS-managed"}},
		{"shared copy encrypted with the default key", func(m map[string]interface{}) {
			delete(m["kms_key_ids"].(map[string]string), "eu-west-1")
		}, []string{"encrypt_copies", "eu-west-1", "kms_key_ids"}},
		{"prune without a selector", func(m map[string]interface{}) {
			delete(prune(m), "match_tags")
			delete(prune(m), "name_pattern")
		}, []string{"prune.match_tags or prune.name_pattern"}},
		{"prune name pattern of wildcards", func(m map[string]interface{}) { prune(m)["name_pattern"] = "*" }, []string{"prune.name_pattern"}},
		{"prune without retention", func(m map[string]interface{}) {
			delete(prune(m), "keep_latest")
			delete(prune(m), "older_than")
		}, []string{"prune.keep_latest or prune.older_than"}},
		{"negative price", func(m map[string]interface{}) { prune(m)["price_per_gib_month"] = -1.0 }, []string{"prune.price_per_gib_month"}},
		{"ssm name reserved", func(m map[string]interface{}) { m["ssm_parameter"] = "/aws/service/golden" }, []string{"ssm_parameter", "SSM reserves"}},
		{"ssm path without slash", func(m map[string]interface{}) { m["ssm_parameter"] = "golden/latest" }, []string{"ssm_parameter", "start with /"}},
		{"ssm bad characters", func(m map[string]interface{}) { m["ssm_parameter"] = "/golden/ubuntu latest" }, []string{"ssm_parameter"}},
		{"reserved tag", func(m map[string]interface{}) { m["tags"] = map[string]string{"aws:owner": "x"} }, []string{"tags", "aws:owner"}},
		{"cooldown without protection", func(m map[string]interface{}) {
			m["deregistration_protection"] = map[string]interface{}{"with_cooldown": true}
		}, []string{"deregistration_protection.with_cooldown"}},
		{"manifest folder", func(m map[string]interface{}) { m["manifest"] = "build/" }, []string{"manifest"}},
		{"harden_report folder", func(m map[string]interface{}) { m["harden_report"] = "reports/" }, []string{"harden_report", "folder"}},
		{"unknown region", func(m map[string]interface{}) { m["region"] = "us-nowhere-1" }, []string{"region", "us-nowhere-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validConfig()
			tt.edit(m)
			var c Config
			err := c.Prepare(m)
			if err == nil {
				t.Fatal("Prepare accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestPrepareCollectsEveryError: one run names every bad option, not only the first.
func TestPrepareCollectsEveryError(t *testing.T) {
	m := validConfig()
	m["share_with"] = []string{"1"}
	m["deprecate_after"] = "x"
	prune(m)["keep_latest"] = -2
	var c Config
	err := c.Prepare(m)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"share_with", "deprecate_after", "prune.keep_latest"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %s: %v", w, err)
		}
	}
}

func prune(m map[string]interface{}) map[string]interface{} {
	return m["prune"].(map[string]interface{})
}
