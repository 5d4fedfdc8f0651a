package lab

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFindRepoRoot(t *testing.T) {
	root := t.TempDir()
	mustWrite(t, filepath.Join(root, "go.mod"), "module "+modulePath+"\n\ngo 1.24.0\n")
	// A nested module of another name must not stop the walk.
	mustWrite(t, filepath.Join(root, "tools", "go.mod"), "module example.com/tools\n")
	deep := filepath.Join(root, "tools", "test", "e2e")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := findRepoRoot(deep)
	if err != nil {
		t.Fatal(err)
	}
	if got != root {
		t.Errorf("findRepoRoot = %s, want %s", got, root)
	}

	if _, err := findRepoRoot(t.TempDir()); err == nil {
		t.Error("findRepoRoot found a root in a folder tree without our go.mod")
	}
}

func TestDeclaresModule(t *testing.T) {
	tests := []struct {
		gomod string
		want  bool
	}{
		{"module " + modulePath + "\n", true},
		{"// comment\nmodule \"" + modulePath + "\"\n", true},
		{"module " + modulePath + "/sub\n", false},
		{"require " + modulePath + " v1.0.0\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := declaresModule([]byte(tt.gomod), modulePath); got != tt.want {
			t.Errorf("declaresModule(%q) = %v, want %v", tt.gomod, got, tt.want)
		}
	}
}

func TestTargetName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	tests := []struct{ test, want string }{
		{"TestLab", "lab-abc123"},
		{"TestHarden/ssh_port_2222", "harden-ssh-port-2222-abc123"},
		{"TestX/#00", "x-00-abc123"},
		{"__", "t-abc123"},
		{"TestLabPackerShellOverSSH/port_2222", "labpackershelloverssh-port-2222-abc123"},
		{"TestAVeryLongTestNameThatGoesOn/and_on_and_on", "gtestnamethatgoeson-and-on-and-on-abc123"},
		{"TestAVeryLongTestNameThatGoesOn/d_1234567890123456", "namethatgoeson-d-1234567890123456-abc123"},
		{"TestTrailing/-------x-----------------------------", "trailing-x-abc123"},
	}
	for _, tt := range tests {
		got := targetName(tt.test, "abc123")
		if got != tt.want {
			t.Errorf("targetName(%q) = %q, want %q", tt.test, got, tt.want)
		}
		if !valid.MatchString(got) {
			t.Errorf("targetName(%q) = %q: not a valid target name", tt.test, got)
		}
	}
}

func TestParseTargetInfo(t *testing.T) {
	out := "name=t1\nhost=10.213.0.2\nport=2222\nuser=admin\nkey=/k/id_ed25519\n" +
		"known_hosts=/k/known_hosts\nproxy=http://10.213.0.1:3128\n"
	got, err := parseTargetInfo(out)
	if err != nil {
		t.Fatal(err)
	}
	want := &TargetHost{Name: "t1", Host: "10.213.0.2", Port: 2222, User: "admin", KeyPath: "/k/id_ed25519",
		KnownHostsPath: "/k/known_hosts", ProxyURL: "http://10.213.0.1:3128"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseTargetInfo = %+v, want %+v", got, want)
	}
	if got.Address() != "10.213.0.2:2222" {
		t.Errorf("Address() = %s", got.Address())
	}

	for _, bad := range []string{
		"",
		strings.Replace(out, "host=10.213.0.2\n", "", 1),
		strings.Replace(out, "port=2222", "port=x", 1),
		strings.Replace(out, "port=2222", "port=70000", 1),
	} {
		if _, err := parseTargetInfo(bad); err == nil {
			t.Errorf("parseTargetInfo accepted %q", bad)
		}
	}
}

func TestStartArgs(t *testing.T) {
	tests := []struct {
		opts []TargetOption
		want []string
	}{
		{nil, []string{"start", "n", "--owner", "42"}},
		{[]TargetOption{WithSSHPort(22)}, []string{"start", "n", "--owner", "42"}},
		{[]TargetOption{WithSSHPort(2222)}, []string{"start", "n", "--owner", "42", "--port", "2222"}},
		{[]TargetOption{WithPackages("ufw"), WithPackages("auditd", "chrony")},
			[]string{"start", "n", "--owner", "42", "--packages", "ufw,auditd,chrony"}},
	}
	for _, tt := range tests {
		cfg := targetConfig{sshPort: 22}
		for _, o := range tt.opts {
			o(&cfg)
		}
		if got := startArgs("n", cfg, 42); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("startArgs = %q, want %q", got, tt.want)
		}
	}
}

func TestInheritedEnvDropsPackerAndAWS(t *testing.T) {
	got := inheritedEnv([]string{
		"PATH=/bin", "AWS_PROFILE=prod", "AWS_ACCESS_KEY_ID=x", "PACKER_LOG=1",
		"PACKER_PLUGIN_PATH=/home/me/.packer.d", "CHECKPOINT_DISABLE=0", "HOME=/root", "MY_AWS=ok",
	})
	want := []string{"PATH=/bin", "HOME=/root", "MY_AWS=ok"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inheritedEnv = %q, want %q", got, want)
	}
}

func TestPackerEnvIsolatesAWS(t *testing.T) {
	env := packerEnv("/p", "/tmp/x")
	if env["AWS_ENDPOINT_URL"] != noAWS || env["AWS_EC2_METADATA_DISABLED"] != "true" {
		t.Errorf("AWS clients are not kept off the network: %v", env)
	}
	if !strings.HasPrefix(env["AWS_SHARED_CREDENTIALS_FILE"], "/tmp/x/") ||
		!strings.HasPrefix(env["AWS_CONFIG_FILE"], "/tmp/x/") {
		t.Errorf("AWS files outside the test's folder: %v", env)
	}
	if env["PACKER_PLUGIN_PATH"] != "/p" || env["CHECKPOINT_DISABLE"] != "1" {
		t.Errorf("packer settings: %v", env)
	}
}

func TestDevVersionLDFlags(t *testing.T) {
	if got := devVersionLDFlags("dev"); got != "" {
		t.Errorf("a dev build got ldflags %q", got)
	}
	if got := devVersionLDFlags(""); got != "-X "+modulePath+"/version.VersionPrerelease=dev" {
		t.Errorf("a release tree got ldflags %q", got)
	}
}

func TestHostProblems(t *testing.T) {
	all := func(string) (string, error) { return "/usr/bin/x", nil }
	ok := hostFacts{goos: "linux", euid: 0, lookPath: all, filesystems: "nodev\tproc\nnodev\toverlay\n",
		maxUserNS: "63000\n", scriptAvailable: true}
	if got := hostProblems(ok); len(got) != 0 {
		t.Errorf("a prepared host has problems: %q", got)
	}

	bad := ok
	bad.euid = 1000
	bad.lookPath = func(name string) (string, error) {
		if name == "mmdebstrap" || name == "systemd-nspawn" {
			return "", errors.New("not found")
		}
		return "/usr/bin/" + name, nil
	}
	bad.filesystems = "nodev\tproc\n"
	bad.maxUserNS = "0\n"
	got := strings.Join(hostProblems(bad), "\n")
	for _, want := range []string{"not running as root", "missing systemd-nspawn, mmdebstrap",
		"no overlay filesystem", "user namespaces are disabled"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems %q do not say %q", got, want)
		}
	}

	mac := ok
	mac.goos = "darwin"
	if got := hostProblems(mac); len(got) != 1 || !strings.Contains(got[0], "darwin") {
		t.Errorf("non-Linux host: %q", got)
	}
}

func TestRequireMessage(t *testing.T) {
	dev := requireMessage([]string{"not running as root"}, false)
	if !strings.Contains(dev, "not running as root") || !strings.Contains(dev, "GOLDEN_SKIP_LAB=1") {
		t.Errorf("developer message: %s", dev)
	}
	ci := requireMessage([]string{"not running as root"}, true)
	if !strings.Contains(ci, "CI must run the lab tests") || strings.Contains(ci, "GOLDEN_SKIP_LAB") {
		t.Errorf("CI message: %s", ci)
	}
}

// The script's "hardening" package alias and HardeningPackages must name the same packages.
func TestHardeningPackagesMatchScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(RepoRoot(t), "test", "target", "target.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^hardening_packages=\(([^)]*)\)`).FindSubmatch(script)
	if m == nil {
		t.Fatal("no hardening_packages=(...) line in target.sh")
	}
	if got := strings.Fields(string(m[1])); !reflect.DeepEqual(got, HardeningPackages) {
		t.Errorf("target.sh hardening_packages = %q, HardeningPackages = %q", got, HardeningPackages)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTargetStopsWhenOwnerIsGone covers a test binary killed mid-test, which runs no cleanup: the
// target it started stops itself once that process is gone. When even the target's supervisor was
// killed (nothing left to notice), the next start removes it.
func TestTargetStopsWhenOwnerIsGone(t *testing.T) {
	RequireLab(t)
	t.Parallel()

	owner := startOwner(t)
	watched := startOwnedTarget(t, "watched", owner.Process.Pid)
	killOwner(t, owner)
	deadline := time.Now().Add(90 * time.Second)
	for len(targetTraces(t, watched)) > 0 && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	if traces := targetTraces(t, watched); len(traces) > 0 {
		t.Errorf("target %s still there 90s after its owner was killed:\n%s", watched.Name, strings.Join(traces, "\n"))
	}

	owner = startOwner(t)
	reaped := startOwnedTarget(t, "reaped", owner.Process.Pid)
	supervisor, err := os.ReadFile(filepath.Join(targetFolder(reaped), "supervisor.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(supervisor)))
	if err != nil {
		t.Fatalf("supervisor.pid: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the supervisor of %s: %v", reaped.Name, err)
	}
	killOwner(t, owner)
	startOwnedTarget(t, "next", os.Getpid())
	if traces := targetTraces(t, reaped); len(traces) > 0 {
		t.Errorf("target %s, abandoned, is still there after the next start:\n%s", reaped.Name, strings.Join(traces, "\n"))
	}
}

// startOwner starts a process that stands for a test binary owning targets.
func startOwner(t *testing.T) *exec.Cmd {
	t.Helper()
	owner := exec.Command("sleep", "600")
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killOwner(t, owner) })
	return owner
}

func killOwner(t *testing.T, owner *exec.Cmd) {
	t.Helper()
	if owner.ProcessState != nil {
		return
	}
	if err := owner.Process.Kill(); err != nil {
		t.Errorf("killing the owner: %v", err)
	}
	_ = owner.Wait()
}

// startOwnedTarget starts a base target for owner with target.sh, stopped at cleanup if still there.
func startOwnedTarget(t *testing.T, label string, owner int) *TargetHost {
	t.Helper()
	name := targetName(t.Name()+"/"+label, randomSuffix(t))
	t.Cleanup(func() {
		if _, stderr, err := runScript(t, "stop", name); err != nil {
			t.Errorf("stopping %s: %v\n%s", name, err, stderr)
		}
	})
	stdout, stderr, err := runScript(t, "start", name, "--owner", strconv.Itoa(owner))
	if err != nil {
		t.Fatalf("starting %s: %v\n%s", name, err, stderr)
	}
	h, err := parseTargetInfo(stdout)
	if err != nil {
		t.Fatalf("target %s: %v", name, err)
	}
	return h
}

// targetFolder is the target's state folder, where target.sh keeps its known_hosts.
func targetFolder(h *TargetHost) string { return filepath.Dir(h.KnownHostsPath) }

// targetTraces lists what is left of a target on the host: its state folder, mounts below it,
// processes that name it (its nspawn, its proxy). Not its address: the next target of the slot,
// any lab's, may have it already.
func targetTraces(t *testing.T, h *TargetHost) []string {
	t.Helper()
	dir := targetFolder(h)
	var traces []string
	if _, err := os.Stat(dir); err == nil {
		traces = append(traces, "folder "+dir)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, dir+"/") || strings.Contains(line, dir+" ") {
			traces = append(traces, "mount "+line)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err == nil && bytes.Contains(cmdline, []byte(h.Name)) {
			traces = append(traces, "process "+strings.ReplaceAll(string(bytes.TrimRight(cmdline, "\x00")), "\x00", " "))
		}
	}
	return traces
}
