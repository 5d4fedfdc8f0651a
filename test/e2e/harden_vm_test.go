package e2e

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/compliance"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// TestHardenVM proves on a qemu VM, with its own kernel, what the container targets cannot. It
// runs cis-level1-server with auditd, then powers the VM off and boots it with its hardware clock
// an hour slow, and checks: every kernel.* parameter the run wrote is the kernel's live value;
// auditd runs immutable (`-e 2`) with its rules loaded; chronyd, with golden-harden's default
// source (the Amazon Time Sync Service's address, where the test's NTP server answers), stepped
// the clock by that hour and is synchronised to the server; an audit run passes every control.
// Slow (minutes of software emulation without KVM): only with GOLDEN_E2E_VM=1, which `make
// e2e-vm` sets.
func TestHardenVM(t *testing.T) {
	lab.RequireVMSuite(t)
	osName := os.Getenv("GOLDEN_VM_OS")
	if osName == "" {
		osName = "debian-12"
	}
	v := lab.VM(t, osName)
	p := lab.Packer(t)
	// A run of 200 controls under software emulation takes minutes, more on a busy host.
	p.RunTimeout = time.Hour

	if got := v.MustRun(t, "systemd-detect-virt --container || true"); strings.TrimSpace(got) != "none" {
		t.Fatalf("the VM reports a container (%q): the suite would prove nothing", got)
	}
	const body = `    include = ["auditd"]`
	r, res := hardenBuild(t, p, v.TargetHost, "vm-enforce", body)
	if r == nil {
		t.Fatalf("enforce build failed: exit %d", res.ExitCode)
	}
	if r.Property("in_container") != "false" {
		t.Errorf("on a VM the report says in_container=%q", r.Property("in_container"))
	}
	if bad := notOK(r, report.StatusPass, report.StatusFixed, report.StatusSkipped); bad != "" {
		t.Errorf("controls not compliant after enforce on a VM:\n%s", bad)
	}
	assertBuildUserKeepsAccess(t, v.TargetHost)

	const slow = time.Hour
	answered := v.NTP.Answered()
	v.PowerCycle(t, -slow)
	assertBuildUserKeepsAccess(t, v.TargetHost)

	// Every kernel.* parameter the run wrote is in force in the booted kernel.
	conf := v.MustRun(t, "sudo cat /etc/sysctl.d/60-golden-hardening.conf")
	line := regexp.MustCompile(`(?m)^\s*(kernel\.[\w.]+)\s*=\s*(.*?)\s*$`)
	kernel := line.FindAllStringSubmatch(conf, -1)
	if len(kernel) < 3 {
		t.Fatalf("the run wrote %d kernel.* parameters:\n%s", len(kernel), conf)
	}
	for _, kv := range kernel {
		live := strings.Join(strings.Fields(v.MustRun(t, "sudo sysctl -n "+kv[1])), " ")
		if want := strings.Join(strings.Fields(kv[2]), " "); live != want {
			t.Errorf("%s: live %q, the run wrote %q", kv[1], live, want)
		}
	}

	// auditd: immutable since the boot, with the rules loaded.
	status := v.MustRun(t, "sudo auditctl -s")
	if !regexp.MustCompile(`(?m)^enabled 2$`).MatchString(status) {
		t.Errorf("auditctl -s after the boot:\n%s", status)
	}
	rules := v.MustRun(t, "sudo auditctl -l")
	if strings.Contains(rules, "No rules") || strings.Count(rules, "\n") < 10 {
		t.Errorf("auditd loaded too few rules after the boot:\n%s", rules)
	}

	assertChronySetTheClock(t, v, slow)
	if v.NTP.Answered() == answered {
		t.Errorf("the NTP server answered no request since the boot")
	}

	// An audit after the boot: every control passes, none only "at the next boot".
	audit, res := hardenBuild(t, p, v.TargetHost, "vm-audit", body+"\n    mode = \"audit\"")
	if audit == nil {
		t.Fatalf("audit build after the boot failed: exit %d", res.ExitCode)
	}
	if bad := notOK(audit, report.StatusPass, report.StatusSkipped); bad != "" {
		t.Errorf("controls not passing in the audit after the boot:\n%s", bad)
	}
	for _, it := range audit.Items {
		if it.NextBoot {
			t.Errorf("%s is in force only after the next boot, on a machine booted since the run", it.ID)
		}
	}

	// OpenSCAP's standard profile, as an auditor runs it on the booted machine: what a container
	// cannot show passes on a real kernel. The score is measured, not bound (docs/compliance.md).
	compliance.PrepareOpenSCAPCopied(t, v.TargetHost)
	scan := compliance.ScanOpenSCAP(t, v.TargetHost, compliance.ReadFacts(t, v.TargetHost))
	t.Logf("%s, ssg-debian %s standard, on the VM after its boot: %.6g; failing: %s",
		scan.Scanner, compliance.SSGVersion, scan.Score, strings.Join(scan.Failed, ", "))
	if len(scan.Excluded) > 0 {
		t.Errorf("OpenSCAP on a VM excluded rules as a container's: %v", scan.Excluded)
	}
	for id, result := range scan.Rules {
		realKernel := id == "service_auditd_enabled" || strings.HasPrefix(id, "sysctl_")
		visible := id == "sshd_allow_only_protocol2"
		if (realKernel || visible) && result != "pass" {
			t.Errorf("OpenSCAP %s on the VM: %s", id, result)
		}
	}
}

// assertChronySetTheClock waits for chronyd to be synchronised and checks that it synchronised to
// the test's server, stepped the clock that was off by offset at boot, and that the VM's clock
// now reads the host's.
func assertChronySetTheClock(t *testing.T, v *lab.VMHost, offset time.Duration) {
	t.Helper()
	if out, err := v.Run(t, "systemctl is-active chrony"); err != nil || strings.TrimSpace(out) != "active" {
		t.Fatalf("chrony after the boot: %q %v", out, err)
	}
	// Up to 3 minutes, until chronyd's last correction is under half a second.
	if out, err := v.Run(t, "chronyc waitsync 90 0.5 0 2"); err != nil {
		t.Errorf("chronyd did not synchronise: %v\n%s\n%s", err, out, v.MustRun(t, "chronyc -n sources; chronyc -n tracking"))
	}
	tracking := v.MustRun(t, "chronyc -n tracking")
	wantContains(t, "chronyc tracking", tracking, "("+lab.TimeSyncAddress+")", "Leap status     : Normal")

	journal := v.MustRun(t, "sudo journalctl -b -u chrony --no-pager -o cat")
	m := regexp.MustCompile(`System clock was stepped by (-?[0-9.]+) seconds`).FindStringSubmatch(journal)
	if m == nil {
		t.Errorf("chronyd did not step the clock in this boot:\n%s", journal)
	} else if step, err := strconv.ParseFloat(m[1], 64); err != nil ||
		math.Abs(math.Abs(step)-offset.Seconds()) > 120 {
		t.Errorf("chronyd stepped the clock by %s s; it was off by %s:\n%s", m[1], offset, journal)
	}

	before := time.Now()
	out := v.MustRun(t, "date +%s.%N")
	after := time.Now()
	sec, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		t.Fatalf("date in the VM: %q", out)
	}
	vm := time.Unix(0, int64(sec*1e9))
	if vm.Before(before.Add(-time.Second)) || vm.After(after.Add(time.Second)) {
		t.Errorf("the VM's clock reads %s, the host's was between %s and %s", vm.UTC(), before.UTC(), after.UTC())
	}
}
