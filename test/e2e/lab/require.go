package lab

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// labTools are the host programs test/target/target.sh runs. The script installs them with apt
// when it builds the image; a machine where they are missing has not been prepared.
var labTools = []string{
	"systemd-nspawn", "mmdebstrap", "tinyproxy", "ip", "nsenter", "setsid", "flock",
	"ssh", "ssh-keygen", "pgrep",
}

// RequireLab makes a test that needs a target fail, with the reason, on a machine where targets
// cannot run (not root, tools or kernel features missing). The only ways to skip are `go test
// -short` and GOLDEN_SKIP_LAB=1, an explicit opt-out for developer machines.
func RequireLab(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end lab test: skipped under -short")
	}
	if skip := os.Getenv("GOLDEN_SKIP_LAB"); skip == "1" || skip == "true" {
		t.Skip("GOLDEN_SKIP_LAB is set: lab tests skipped on request")
	}
	if problems := labProblems(); len(problems) > 0 {
		t.Fatal(requireMessage(problems, os.Getenv("CI") == "true"))
	}
}

// RequireVMSuite skips a test of the optional VM suite unless GOLDEN_E2E_VM=1 (make e2e-vm), and
// fails it, with what to run, when the host lacks the programs the suite's VMs need.
func RequireVMSuite(t *testing.T) {
	t.Helper()
	if os.Getenv("GOLDEN_E2E_VM") != "1" {
		t.Skip("the VM suite runs with GOLDEN_E2E_VM=1 (make e2e-vm)")
	}
	for _, tool := range []string{"qemu-system-x86_64", "qemu-img", "genisoimage", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("lab: the VM suite needs %s: run scripts/setup.sh vm (as root)", tool)
		}
	}
}

// requireMessage says what is wrong and what to do about it.
func requireMessage(problems []string, ci bool) string {
	var b strings.Builder
	if ci {
		b.WriteString("CI must run the lab tests, but this runner cannot: ")
	} else {
		b.WriteString("the test lab cannot run on this machine: ")
	}
	b.WriteString(strings.Join(problems, "; "))
	b.WriteString(". Prepare it as root with `test/target/target.sh build` (see docs/test-lab.md)")
	if !ci {
		b.WriteString(", or set GOLDEN_SKIP_LAB=1 to skip the lab tests here")
	}
	return b.String()
}

var labProblems = sync.OnceValue(func() []string {
	return hostProblems(hostFacts{
		goos:            runtime.GOOS,
		euid:            os.Geteuid(),
		lookPath:        exec.LookPath,
		filesystems:     readFileOrEmpty("/proc/filesystems"),
		maxUserNS:       readFileOrEmpty("/proc/sys/user/max_user_namespaces"),
		scriptAvailable: scriptAvailable(),
	})
})

// hostFacts is what decides whether targets can run here; gathered once, judged by hostProblems.
type hostFacts struct {
	goos            string
	euid            int
	lookPath        func(string) (string, error)
	filesystems     string // /proc/filesystems
	maxUserNS       string // /proc/sys/user/max_user_namespaces
	scriptAvailable bool
}

// hostProblems lists every reason targets cannot run on a host with these facts.
func hostProblems(f hostFacts) []string {
	if f.goos != "linux" {
		return []string{"targets are Linux containers and this is " + f.goos}
	}
	var problems []string
	if f.euid != 0 {
		problems = append(problems, "not running as root (systemd-nspawn, veth and overlay mounts need it)")
	}
	var missing []string
	for _, tool := range labTools {
		if _, err := f.lookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing "+strings.Join(missing, ", "))
	}
	if !hasFilesystem(f.filesystems, "overlay") {
		problems = append(problems, "the kernel has no overlay filesystem")
	}
	if n, err := strconv.Atoi(strings.TrimSpace(f.maxUserNS)); err != nil || n == 0 {
		problems = append(problems, "user namespaces are disabled (/proc/sys/user/max_user_namespaces)")
	}
	if !f.scriptAvailable {
		problems = append(problems, "test/target/target.sh not found from the test's directory")
	}
	return problems
}

// hasFilesystem reports whether /proc/filesystems content lists fs.
func hasFilesystem(procFilesystems, fs string) bool {
	for _, line := range strings.Split(procFilesystems, "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 && fields[len(fields)-1] == fs {
			return true
		}
	}
	return false
}

func readFileOrEmpty(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

func scriptAvailable() bool {
	root, err := repoRoot()
	if err != nil {
		return false
	}
	info, err := os.Stat(root + "/test/target/target.sh")
	return err == nil && info.Mode()&0o111 != 0
}
