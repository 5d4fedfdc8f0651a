package probe

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/internal/remote/remotetest"
)

// everyType has one probe of each type, for the script tests.
func everyType() []Probe {
	return []Probe{
		&Service{Name: "ssh", Enabled: ptr(true)},
		&Package{Name: "openssh-server", Version: ">= 1:9"},
		&Port{Port: "tcp:22", Addresses: []string{"0.0.0.0"}},
		&File{Path: "/etc/it's here", Mode: "0644", Owner: "root", Contents: []string{"x"}},
		&Sysctl{Name: "net.ipv4.ip_forward", Value: "0"},
		&Mount{Path: "/my mount", Options: []string{"nodev"}},
		&User{Name: "admin", Groups: []string{"sudo"}},
		&Group{Name: "sudo"},
		&Process{Name: "sshd"},
		&Command{Command: `echo "$HOME" | grep -q '/'`, Stdout: []string{"x"}},
		&HTTP{URL: "http://localhost:8080/it's", Body: []string{"ok"}},
		&IMDSv2{},
		&BuildLeftovers{},
	}
}

func TestScriptIsShellcheckClean(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("shellcheck is not installed")
	}
	probes := everyType()
	if errs := Validate(probes); len(errs) > 0 {
		t.Fatal(errs)
	}
	path := filepath.Join(t.TempDir(), "probe.sh")
	if err := os.WriteFile(path, Script(probes), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("shellcheck", "-s", "sh", "-S", "style", path).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck:\n%s", out)
	}
}

func TestScriptHasHTTPClientOnlyWhenNeeded(t *testing.T) {
	if s := string(Script([]Probe{&Service{Name: "ssh"}})); strings.Contains(s, "GOLDEN_HTTP_PY") {
		t.Error("the HTTP client is written without an http probe")
	}
	if s := string(Script([]Probe{&IMDSv2{}})); !strings.Contains(s, "GOLDEN_HTTP_PY") {
		t.Error("imdsv2_enforced without the HTTP client")
	}
}

func TestParseRecord(t *testing.T) {
	for in, want := range map[string]record{
		"3 active =active":  {probe: 3, key: "active", value: "active"},
		"0 stdout ~aGkK":    {probe: 0, key: "stdout", value: "hi\n"},
		"12 empty =":        {},
		"7 end":             {probe: 7, end: true},
		"- ready":           {probe: -1},
		"x y =z":            {},
		"- nope":            {},
		"1 k ~not base64!!": {},
	} {
		got, err := parseRecord(in)
		if want == (record{}) {
			if err == nil && in != "12 empty =" {
				t.Errorf("parseRecord(%q) accepted: %+v", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("parseRecord(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}

// TestRunOnThisMachine runs the script with the local shell: a probe that converges while the
// run waits, one that passes at once, and one that never does, all in one run of the script.
func TestRunOnThisMachine(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "ready")
	go func() {
		time.Sleep(700 * time.Millisecond)
		_ = os.WriteFile(flag, []byte("ready: yes\n"), 0o644)
	}()
	probes := []Probe{
		&File{Path: flag, Contents: []string{"/^ready: yes$/"}, Retry: Retry{Timeout: "10s"}},
		&Command{Command: "echo hello; echo oops >&2; exit 3", ExitStatus: ptr(3), Stdout: []string{"hello"}, Stderr: []string{"oops"}},
		&Command{Command: "true", Stdout: []string{"never printed"}, Retry: Retry{Timeout: "3s"}},
		&File{Path: filepath.Join(dir, "absent"), Exists: ptr(false)},
	}
	if errs := Validate(probes); len(errs) > 0 {
		t.Fatal(errs)
	}
	comm := &remotetest.Local{}
	var retries []string
	var final []string
	started := time.Now()
	results, err := Run(context.Background(), &remote.Runner{Comm: comm}, probes, RunOptions{
		Interval:   200 * time.Millisecond,
		ScriptPath: filepath.Join(dir, "probe.sh"),
		OnRetry:    func(p Probe, n int, v Verdict, left time.Duration) { retries = append(retries, ID(p)) },
		OnResult:   func(r Result) { final = append(final, ID(r.Probe)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(comm.Commands) != 1 {
		t.Errorf("the script ran %d times, want once: %q", len(comm.Commands), comm.Commands)
	}
	if r := results[0]; !r.Pass || r.Attempts < 2 || r.Duration < 500*time.Millisecond {
		t.Errorf("converging probe: %+v", r)
	}
	if r := results[1]; !r.Pass || r.Attempts != 1 {
		t.Errorf("command probe: %+v", r)
	}
	// Retried until its deadline: how many attempts fit in 3 s depends on the machine's load.
	if r := results[2]; r.Pass || r.Attempts < 2 || r.Duration < time.Second || !strings.Contains(r.Message, `stdout does not satisfy "never printed"`) {
		t.Errorf("failing probe: %+v", r)
	}
	if r := results[3]; !r.Pass {
		t.Errorf("absent file: %+v", r)
	}
	if len(final) != 4 || len(retries) < 2 {
		t.Errorf("results %q, retries %q", final, retries)
	}
	if time.Since(started) > 15*time.Second {
		t.Errorf("the run took %s", time.Since(started))
	}
	if _, err := os.Stat(filepath.Join(dir, "probe.sh")); !os.IsNotExist(err) {
		t.Errorf("the script is still there: %v", err)
	}
}

func TestRunReportsAScriptThatDies(t *testing.T) {
	dir := t.TempDir()
	// The command runs under timeout(1), whose parent is the script.
	probes := []Probe{&Command{Command: "kill -9 $(cut -d' ' -f4 /proc/$PPID/stat)"}}
	if errs := Validate(probes); len(errs) > 0 {
		t.Fatal(errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Run(ctx, &remote.Runner{Comm: &remotetest.Local{}}, probes, RunOptions{ScriptPath: filepath.Join(dir, "p.sh")})
	if err == nil || !strings.Contains(err.Error(), "ended") {
		t.Errorf("err = %v", err)
	}
}
