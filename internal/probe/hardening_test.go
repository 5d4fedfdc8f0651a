package probe

import (
	"strings"
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

func TestHardeningAudit(t *testing.T) {
	build := &report.Report{Suite: "golden-harden", Properties: []report.Property{{Name: "profile", Value: "cis-level1-server"}},
		Items: []report.Item{
			{ID: "ssh.permit-root-login", Status: report.StatusFixed},
			{ID: "sysctl.aslr", Status: report.StatusPass, NextBoot: true},
			{ID: "auditd.immutable", Status: report.StatusWaived},
			{ID: "files.unowned", Status: report.StatusFailed},
			{ID: "modules.cramfs", Status: report.StatusSkipped},
		}}
	if got := PassedAtBuild(build); strings.Join(got, ",") != "ssh.permit-root-login,sysctl.aslr" {
		t.Errorf("PassedAtBuild = %v", got)
	}
	for _, c := range []struct {
		name  string
		boot  []report.Item
		pass  bool
		words []string
	}{
		{"all hold", []report.Item{{ID: "ssh.permit-root-login", Status: report.StatusPass}, {ID: "sysctl.aslr", Status: report.StatusPass}},
			true, []string{"all 2 controls of cis-level1-server"}},
		{"one drifted", []report.Item{{ID: "ssh.permit-root-login", Status: report.StatusFailed, Message: "PermitRootLogin yes"}, {ID: "sysctl.aslr", Status: report.StatusPass}},
			false, []string{"1 of 2 controls", "ssh.permit-root-login (fixed at build time, failed after the boot)"}},
		{"one not checked", []report.Item{{ID: "sysctl.aslr", Status: report.StatusPass}},
			false, []string{"ssh.permit-root-login (not checked after the boot)"}},
		{"skipped after the boot is not a pass", []report.Item{{ID: "ssh.permit-root-login", Status: report.StatusPass}, {ID: "sysctl.aslr", Status: report.StatusSkipped}},
			false, []string{"sysctl.aslr (pass at build time, skipped after the boot)"}},
	} {
		v := HardeningAudit(build, &report.Report{Items: c.boot})
		if v.Pass != c.pass {
			t.Errorf("%s: %+v", c.name, v)
		}
		for _, w := range c.words {
			if !strings.Contains(v.Message, w) {
				t.Errorf("%s: message %q lacks %q", c.name, v.Message, w)
			}
		}
	}
}
