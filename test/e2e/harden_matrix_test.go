package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/hardening"
	"github.com/golden-ami/packer-plugin-golden/internal/report"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// The OS matrix: every release golden-harden supports, as a lab machine booted the way EC2 boots
// its image, hardened with every profile by the real packer binary. `make test` runs it on Debian
// 12 and Ubuntu 22.04 (defaultMatrixOSes), `make test-matrix` on every release;
// GOLDEN_HARDEN_OSES and GOLDEN_HARDEN_PROFILES (all, or comma-separated lists; every profile by
// default) choose the cases.

// defaultMatrixOSes are the releases hardened when GOLDEN_HARDEN_OSES is unset: the seed's Ubuntu
// 22.04, and Debian 12.
var defaultMatrixOSes = []string{"debian-12", "ubuntu-22.04"}

// allMatrixOSes is every release of the supported list (internal/hardening, the list
// docs/provisioners/harden.mdx shows): the matrix hardens exactly what golden-harden accepts.
var allMatrixOSes = func() []string {
	var out []string
	for _, r := range hardening.Releases(false) {
		out = append(out, r.Lab)
	}
	return out
}()

// matrixList is the comma-separated list in the environment variable, all for "all", def when
// unset.
func matrixList(name string, all, def []string) []string {
	switch v := os.Getenv(name); v {
	case "":
		return def
	case "all":
		return all
	default:
		return strings.Split(v, ",")
	}
}

// matrixCase is one profile on one release. Port is the port sshd is moved to before the build
// (0: 22, where the image has it).
type matrixCase struct {
	profile string
	port    int
	// laterLaunch: after the runs, launch the hardened disk again with a key-only user from the
	// user data, age it by 400 days and log in.
	laterLaunch bool
}

var matrixCases = []matrixCase{
	{profile: "baseline"},
	{profile: "cis-level1-server", laterLaunch: true},
	{profile: "cis-level2-server", port: 2222},
}

// TestHardenMatrix: on every release, every profile ends with no failed control; the re-run
// reports every control pass and changes nothing under /etc; a NEW SSH login as the build user
// and `sudo -n true` work after the run and after a reboot; a user cloud-init creates at a later
// launch still logs in and uses sudo 400 days later; one profile runs with sshd on port 2222.
func TestHardenMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	var profiles []string
	for _, mc := range matrixCases {
		profiles = append(profiles, mc.profile)
	}
	wanted := matrixList("GOLDEN_HARDEN_PROFILES", profiles, profiles)
	for _, osName := range matrixList("GOLDEN_HARDEN_OSES", allMatrixOSes, defaultMatrixOSes) {
		for _, mc := range matrixCases {
			if !slices.Contains(wanted, mc.profile) {
				continue
			}
			t.Run(osName+"/"+mc.profile, func(t *testing.T) {
				t.Parallel()
				hardenOnMachine(t, osName, mc)
			})
		}
	}
}

func hardenOnMachine(t *testing.T, osName string, mc matrixCase) {
	var opts []lab.MachineOption
	if mc.port != 0 {
		opts = append(opts, lab.WithIngress(mc.port))
	}
	m := lab.Machine(t, osName, opts...)
	if mc.port != 0 {
		m.MoveSSHPort(t, mc.port)
	}
	p := lab.Packer(t)
	body := `    profile = "` + mc.profile + `"`
	r, res := hardenBuild(t, p, m.TargetHost, "first", body)
	if r == nil {
		if raw, err := os.ReadFile(filepath.Join(p.Dir, "first.json")); err == nil {
			if failed, err := report.ParseJSON(raw); err == nil {
				t.Logf("controls not compliant:\n%s", notOK(failed, report.StatusPass, report.StatusFixed, report.StatusSkipped))
			}
		}
		t.Fatalf("%s %s: packer build exited %d", osName, mc.profile, res.ExitCode)
	}
	if bad := notOK(r, report.StatusPass, report.StatusFixed, report.StatusSkipped); bad != "" {
		t.Errorf("%s %s: controls not compliant after the run:\n%s", osName, mc.profile, bad)
	}
	assertBuildUserKeepsAccess(t, m.TargetHost)

	before := m.MustRun(t, etcState)
	again, res := hardenBuild(t, p, m.TargetHost, "again", body)
	if again == nil {
		t.Fatalf("%s %s: the re-run exited %d", osName, mc.profile, res.ExitCode)
	}
	if bad := notOK(again, report.StatusPass, report.StatusSkipped); bad != "" {
		t.Errorf("%s %s: the re-run did not find every control compliant:\n%s", osName, mc.profile, bad)
	}
	// The re-run leaves its report on the image again (same path, new content).
	if diff := diffLines(before, m.MustRun(t, etcState)); diff != "" {
		t.Errorf("%s %s: the re-run changed /etc:\n%s", osName, mc.profile, diff)
	}
	assertBuildUserKeepsAccess(t, m.TargetHost)
	m.Reboot(t)
	assertBuildUserKeepsAccess(t, m.TargetHost)

	if !mc.laterLaunch {
		return
	}
	opsKey := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(m.Signer.PublicKey())))
	later := m.Relaunch(t, lab.WithUserData(laterLaunchUserData(opsKey)))
	keys := map[string]ssh.Signer{later.User: later.Signer, "ops": m.Signer}
	assertLogsIn(t, later, "at a later launch", keys)
	ageAccounts(t, later, "ops")
	assertLogsIn(t, later, "400 days after a later launch", keys)
	later.Reboot(t)
	assertLogsIn(t, later, "400 days after a later launch, after a reboot", keys)
}
