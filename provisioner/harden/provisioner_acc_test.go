package harden

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/golden-ami/packer-plugin-golden/internal/acceptance"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

//go:embed test-fixtures/audit-debian.pkr.hcl
var auditDebianTemplate string

// TestAccProvisioner_auditDebian audits a real EC2 instance of the official Debian 12 image with
// the CIS Level 1 profile (real AWS, only with PACKER_ACC=1: `make testacc`). The lab's target is
// a container; this is where the kernel, boot and cloud-init side of the controls meet a real VM.
// It creates no AMI. If a run is killed, find its instance with
// `aws ec2 describe-instances --filters Name=tag-key,Values=golden:acc` and terminate it.
func TestAccProvisioner_auditDebian(t *testing.T) {
	reportFile := filepath.Join(t.TempDir(), "audit.json")
	tc := acceptance.NewCase("golden_harden_audit_debian", acceptance.DebianEBS, auditDebianTemplate, map[string]string{
		"run_name": acceptance.RunName("harden"), "skip_create_ami": "true", "report": reportFile,
	})
	tc.Check = func(build *exec.Cmd, logfile string) error {
		if err := acceptance.BuildSucceeded(build, logfile); err != nil {
			return err
		}
		b, err := os.ReadFile(reportFile)
		if err != nil {
			return fmt.Errorf("the audit wrote no report: %w", err)
		}
		r, err := report.ParseJSON(b)
		if err != nil {
			return err
		}
		return checkAudit(r)
	}
	acctest.TestPlugin(t, tc)
}

// checkAudit: the audit ran on a Debian 12 VM, found what a stock image lacks, and changed nothing.
func checkAudit(r *report.Report) error {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for name, want := range map[string]string{"mode": "audit", "profile": "cis-level1-server", "in_container": "false"} {
		if got := r.Property(name); got != want {
			fail("%s = %q, want %q", name, got, want)
		}
	}
	if osName := r.Property("os"); !strings.Contains(osName, "Debian GNU/Linux 12") {
		fail("os = %q, want Debian 12", osName)
	}
	if r.After.Total == 0 || r.After.Failed == 0 {
		fail("counts %+v: a stock Debian image fails CIS Level 1 controls (no separate /tmp, no auditd)", r.After)
	}
	if r.After.Fixed != 0 || len(r.ChangedFiles) > 0 {
		fail("audit mode fixed %d controls and changed %v, want nothing changed", r.After.Fixed, r.ChangedFiles)
	}
	if r.Passed {
		fail("a stock image passed at score %.1f (threshold %.1f)", r.Score, r.Threshold)
	}
	if len(problems) > 0 {
		return fmt.Errorf("audit report: %s", strings.Join(problems, "; "))
	}
	return nil
}
