package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// simClients are clients of the simulator, as the environment of the demo configures them.
func simClients(sim *ec2sim.Server) func(context.Context) (Clients, error) {
	return func(context.Context) (Clients, error) {
		return func(region string) (ec2API, ssmAPI) {
			cfg := aws.Config{Region: region, BaseEndpoint: aws.String(sim.URL()),
				Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator", "")}
			return ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
		}, nil
	}
}

func writeJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// demoRun is a finished demo: the simulator holding what the pipeline left, and the reports as
// the components write them (their own types, encoded as they encode them).
func demoRun(t *testing.T) (*ec2sim.Server, string, map[string]string) {
	t.Helper()
	sim := ec2sim.StartTest(t, ec2sim.Options{})
	amis := map[string]string{}
	for _, region := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		amis[region] = sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-demo-ubuntu-22.04-1", SharedWith: []string{"111122223333"},
			CreationDate: time.Now(), Tags: map[string]string{goldentag.Pipeline: "golden-demo", goldentag.Validation: goldentag.ValidationPassed}})
		sim.AddImage(region, ec2sim.ImageSeed{Name: "golden-demo-ubuntu-22.04-0", CreationDate: time.Now().AddDate(0, -1, 0),
			Tags: map[string]string{goldentag.Pipeline: "golden-demo"}})
		sim.PutParameter(region, "/golden/demo/latest", amis[region], "aws:ec2:image")
	}
	// The build's instance, terminated; an instance of the fleet, not temporary.
	sim.AddInstance("us-east-1", ec2sim.InstanceSeed{ImageID: "ami-0aa", State: "terminated", Tags: map[string]string{goldentag.Temporary: "true"}})
	sim.AddInstance("us-east-1", ec2sim.InstanceSeed{ImageID: amis["us-east-1"], Tags: map[string]string{"Name": "web-1"}})

	dir := t.TempDir()
	writeJSON(t, dir, packerManifestFile, map[string]any{"builds": []map[string]any{{
		"name": "ubuntu", "artifact_id": "us-east-1:" + amis["us-east-1"],
		"custom_data": map[string]string{"source_ami": "ami-0aa", "replaces": "ami-0d0e00000000e1015"},
	}}})
	h := &report.Report{Suite: "golden-harden", DurationMS: 95000, Threshold: 90,
		Properties: []report.Property{{Name: "profile", Value: "cis-level1-server"}},
		Items: []report.Item{{ID: "a", Status: report.StatusPass}, {ID: "b", Status: report.StatusFixed, Before: report.StatusFailed},
			{ID: "c", Status: report.StatusFixed, Before: report.StatusFailed}, {ID: "d", Status: report.StatusSkipped}}}
	h.Summarize()
	hb, err := h.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, hardenFile), hb, 0o644); err != nil {
		t.Fatal(err)
	}
	v := &report.Validation{Suite: "golden-validate", DurationMS: 60000, Passed: false, Targets: []report.ValidationTarget{{
		Region: "us-east-1", InstanceType: "t3.micro", InstanceID: "i-0bb",
		Probes: []report.Probe{{Type: "service", Subject: "ssh", Status: report.StatusPass}, {Type: "package", Subject: "jq", Status: report.StatusFailed}},
	}}}
	vb, err := v.Encode(report.FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, validateFile), vb, 0o644); err != nil {
		t.Fatal(err)
	}
	prune := lifecycle.NewReport([]lifecycle.PrunePlan{{Region: "us-east-1", ReclaimedGiB: 40, MonthlySavings: 2, Images: []lifecycle.ImageDecision{
		{ImageID: "ami-0d0e00000000e1015", Action: lifecycle.Keep, Reasons: []lifecycle.Reason{{Code: lifecycle.ReasonNewest, Detail: "newest 2 of keep_latest 3"}}},
		{ImageID: "ami-0d0e00000000e0701", Action: lifecycle.Keep, Reasons: []lifecycle.Reason{{Code: lifecycle.ReasonInUse, Detail: "in use by launch template lt-1"}}},
		{ImageID: "ami-0d0e00000000e0901", Action: lifecycle.Delete, Reasons: []lifecycle.Reason{{Code: lifecycle.ReasonExpired, Detail: "outside the newest 3"}}},
		{ImageID: "ami-0d0e00000000e1001", Action: lifecycle.Delete, Reasons: []lifecycle.Reason{{Code: lifecycle.ReasonExpired, Detail: "outside the newest 3"}}},
	}}}, false, time.Now())
	m := lifecycle.Manifest{AMIs: amis, Prune: &prune}
	for _, region := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		img := lifecycle.RegionImage{Region: region, ImageID: amis[region], Name: "golden-demo-ubuntu-22.04-1", SSMParameter: "/golden/demo/latest", SharedWith: []string{"111122223333"}}
		if region != "us-east-1" {
			img.CopiedFrom = "us-east-1:" + amis["us-east-1"]
		}
		m.Images = append(m.Images, img)
	}
	writeJSON(t, dir, lifecycleFile, m)
	return sim, dir, amis
}

// TestSummary reads a finished demo's reports and the simulator, and prints and writes what they
// say: the counts are the reports', the regions' state is the simulator's.
func TestSummary(t *testing.T) {
	sim, dir, amis := demoRun(t)
	log := filepath.Join(t.TempDir(), "packer.log")
	if err := os.WriteFile(log, []byte(packerLog), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "summary.json")
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"-reports", dir, "-log", log, "-json", out, "-wait", "0s"}, &stdout, io.Discard, simClients(sim)); err != nil {
		t.Fatal(err)
	}
	text := stdout.String()
	for _, want := range []string{
		"Reports in " + dir + ": harden.json lifecycle.json packer-manifest.json validate.json",
		"golden-demo-ubuntu-22.04-1 (" + amis["us-east-1"] + "), built from ami-0aa, replacing ami-0d0e00000000e1015",
		"/golden/demo/latest",
		"cis-level1-server: 1 pass, 2 fixed, 0 failed, 1 skipped, 0 waived; score 100.0%",
		"1 of 2 probes passed on us-east-1/t3.micro (i-0bb)",
		"pruned 2 AMIs, 40 GiB of snapshots reclaimed (about $2.00 a month); kept 2 (1 newest, 1 in-use)",
		"kept us-east-1 ami-0d0e00000000e0701: in use by launch template lt-1",
		"golden-harden                                     3m0s",
		"packer build                                      7m20s",
		"Temporary instances left: none",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "ami-0d0e00000000e1015:") {
		t.Errorf("an image kept only for being among the newest is listed:\n%s", text)
	}
	for _, region := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		row := region + "  " + amis[region] + "  available  passed      " + amis[region] + "  111122223333  2"
		if !strings.Contains(text, row) {
			t.Errorf("summary lacks the row %q:\n%s", row, text)
		}
	}

	var s Summary
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Regions) != 3 || s.Regions[1].Region != "us-west-2" || s.Regions[1].ParameterValue != amis["us-west-2"] ||
		len(s.Regions[1].PipelineImages) != 2 || s.Regions[1].PipelineImages[0] != amis["us-west-2"] {
		t.Errorf("regions in the JSON summary: %+v", s.Regions)
	}
	if len(s.Prune.Deleted) != 2 || s.Prune.Kept[1].Codes[0] != "in-use" || len(s.Stages) != 8 || s.Leftovers == nil {
		t.Errorf("JSON summary: prune %+v, %d stages, leftovers %v", s.Prune, len(s.Stages), s.Leftovers)
	}
}

// TestLeftovers: a temporary instance that is not terminated is named and makes the command fail;
// the fleet's own instances do not count.
func TestLeftovers(t *testing.T) {
	sim, _, _ := demoRun(t)
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"-leftovers", "us-east-1,eu-west-1", "-wait", "0s"}, &stdout, io.Discard, simClients(sim)); err != nil {
		t.Fatalf("no temporary instance is alive, yet: %v\n%s", err, stdout.String())
	}
	if got := stdout.String(); got != "Temporary instances left: none\n" {
		t.Errorf("output %q", got)
	}
	id := sim.AddInstance("eu-west-1", ec2sim.InstanceSeed{ImageID: "ami-0cc", State: "stopped", Tags: map[string]string{goldentag.Temporary: "true"}})
	stdout.Reset()
	err := run(t.Context(), []string{"-leftovers", "us-east-1,eu-west-1", "-wait", "0s"}, &stdout, io.Discard, simClients(sim))
	if !errors.Is(err, errLeftovers) || !strings.Contains(stdout.String(), "eu-west-1 "+id+" (stopped, image ami-0cc)") {
		t.Errorf("error %v, output:\n%s", err, stdout.String())
	}
}

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"-reports", "r"}, ""},
		{[]string{"-leftovers", "us-east-1"}, ""},
		{nil, "-reports is required"},
		{[]string{"-leftovers", "us-east-1", "-reports", "r"}, "-leftovers takes no -reports"},
		{[]string{"-reports", "r", "extra"}, "unexpected arguments"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantErr)
		}
	}
}
