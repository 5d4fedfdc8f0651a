package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/probe"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
	"github.com/golden-ami/packer-plugin-golden/test/e2e/lab"
)

// golden-validate's probes on a real Debian 12 machine: the rendered script runs once over the
// SDK's SSH communicator, as the build user through sudo, and every probe type is shown passing
// and failing on what the machine really has.

func ptr[T any](v T) *T { return &v }

// labPublicKey is the authorized_keys line of the lab key, the key the target was "launched" with.
func labPublicKey(t *testing.T, h *lab.TargetHost) string {
	t.Helper()
	pem, err := os.ReadFile(h.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
}

// prepareProbeTarget gives the target something to probe: a file, a web server on localhost (with
// a directory that answers like a metadata service allowing IMDSv1), and a network sysctl that
// changes only a few seconds after the checks start.
// strangerKey is a new public key in authorized_keys format: a build key left on the image.
func strangerKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

func prepareProbeTarget(t *testing.T, h *lab.TargetHost) {
	t.Helper()
	h.MustRun(t, `sudo sh -euc '
printf "alpha\nbeta=1\n" >/etc/golden-probe-test; chown root:adm /etc/golden-probe-test; chmod 0640 /etc/golden-probe-test
mkdir -p /var/tmp/www/latest/meta-data; echo healthy >/var/tmp/www/index.html
setsid python3 -m http.server 8080 --bind 127.0.0.1 --directory /var/tmp/www </dev/null >/dev/null 2>&1 &
sysctl -qw net.ipv4.conf.all.log_martians=0
for i in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:8080/\")" 2>/dev/null && exit 0; sleep 0.1; done; exit 1
'`)
}

func runProbes(t *testing.T, comm *lab.Communicator, probes []probe.Probe, interval time.Duration) []probe.Result {
	t.Helper()
	return runProbesRetrying(t, comm, probes, interval, nil)
}

// runProbesRetrying is runProbes with onRetry (probe.RunOptions.OnRetry) told of each failed
// attempt that will be retried, before the next attempt starts.
func runProbesRetrying(t *testing.T, comm *lab.Communicator, probes []probe.Probe, interval time.Duration,
	onRetry func(p probe.Probe, attempt int, v probe.Verdict, left time.Duration)) []probe.Result {
	t.Helper()
	if errs := probe.Validate(probes); len(errs) > 0 {
		t.Fatalf("invalid probes: %v", errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A failing probe must be tried again before its deadline: 10 s leaves room for a second round
	// of twenty probes on a loaded machine (3 s did not at a load of 20).
	results, err := probe.Run(ctx, &remote.Runner{Comm: comm, Sudo: true}, probes, probe.RunOptions{
		Timeout:  10 * time.Second,
		Interval: interval,
		OnRetry:  onRetry,
		OnOutput: func(stderr bool, line string) { t.Logf("probe script: %s", line) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		t.Logf("%-5v %s after %d attempts: %s", r.Pass, probe.ID(r.Probe), r.Attempts, r.Message)
	}
	return results
}

func TestProbesOnDebian12(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped under -short")
	}
	t.Parallel()
	h := lab.Target(t, lab.WithPackages(lab.HardeningPackages...))
	prepareProbeTarget(t, h)
	comm := h.Communicator(t)
	key := labPublicKey(t, h)

	passing := []probe.Probe{
		&probe.Service{Name: "ssh", Running: ptr(true), Enabled: ptr(true)},
		&probe.Service{Name: "telnet", Running: ptr(false)},
		&probe.Package{Name: "openssh-server", Version: ">= 1:9.2"},
		&probe.Package{Name: "telnetd", Installed: ptr(false)},
		&probe.Port{Port: "tcp:22", Addresses: []string{"0.0.0.0"}},
		&probe.Port{Port: "tcp:8080", Addresses: []string{"127.0.0.1"}},
		&probe.Port{Port: "tcp:23", Listening: ptr(false)},
		&probe.File{Path: "/etc/golden-probe-test", Filetype: "file", Mode: "0640", Owner: "root", Group: "adm", Contents: []string{"alpha", "/^beta=[0-9]$/", "!gamma"}},
		&probe.File{Path: "/etc/shadow", Mode: "0640", Group: "shadow"},
		&probe.File{Path: "/root/.bash_history", Exists: ptr(false)},
		&probe.Sysctl{Name: "net.ipv4.ip_forward", Value: "0"},
		// Set to 1 only after its first attempt failed: a probe converging after the boot.
		&probe.Sysctl{Name: "net.ipv4.conf.all.log_martians", Value: "1", Retry: probe.Retry{Timeout: "30s"}},
		&probe.Mount{Path: "/proc", Options: []string{"nosuid", "nodev", "noexec"}, Filesystem: "proc"},
		&probe.User{Name: h.User, UID: ptr(1000), Groups: []string{"sudo"}, Home: "/home/" + h.User},
		&probe.User{Name: "ghost", Exists: ptr(false)},
		&probe.Group{Name: "sudo", GID: ptr(27)},
		&probe.Process{Name: "sshd"},
		&probe.Command{Command: "id -u; echo to stderr >&2", Stdout: []string{"/^0$/"}, Stderr: []string{"to stderr"}},
		&probe.Command{Command: "exit 7", ExitStatus: ptr(7)},
		&probe.HTTP{URL: "http://127.0.0.1:8080/", Body: []string{"healthy"}},
		&probe.HTTP{URL: "http://127.0.0.1:8080/missing", Status: ptr(404)},
		// No metadata service in the lab: a token-less request gets no answer.
		&probe.IMDSv2{},
		&probe.BuildLeftovers{AllowedKeys: []string{key}},
	}
	// The change follows the failed attempt, not a timer: a timer started before the probes was
	// outlasted by the first round on a loaded machine, and the probe then passed at once.
	converged := false
	results := runProbesRetrying(t, comm, passing, 500*time.Millisecond, func(p probe.Probe, _ int, _ probe.Verdict, _ time.Duration) {
		if p != passing[11] || converged {
			return
		}
		converged = true
		if out, err := h.Run(t, "sudo sysctl -qw net.ipv4.conf.all.log_martians=1"); err != nil {
			t.Errorf("setting log_martians: %v\n%s", err, out)
		}
	})
	for _, r := range results {
		if !r.Pass {
			t.Errorf("%s failed: %s\n%s", probe.ID(r.Probe), r.Message, r.Evidence)
		}
	}
	if r := results[11]; !converged || r.Attempts < 2 {
		t.Errorf("the converging sysctl passed after %d attempts (changed after a failed one: %v): it did not wait for the change", r.Attempts, converged)
	}
	if n := comm.Connections(); n != 1 {
		t.Errorf("%d SSH connections, want 1", n)
	}

	// Now break what the failing probes look for.
	h.MustRun(t, `sudo sh -euc '
echo "`+strangerKey(t)+` packer_build" >>/home/`+h.User+`/.ssh/authorized_keys
echo "apt-get install -y secret" >/root/.bash_history
touch /tmp/packer-shell-1234 /var/tmp/script_9999.sh
mkdir -p /var/log/golden; echo "{}" >/var/log/golden/harden-report.json; chmod 0644 /var/log/golden/harden-report.json
'`)
	failing := []struct {
		probe   probe.Probe
		message string
	}{
		{&probe.Service{Name: "nonexistent"}, "no unit nonexistent is installed"},
		{&probe.Service{Name: "ssh", Running: ptr(false)}, "is active, want not active"},
		{&probe.Package{Name: "nginx"}, "is not installed"},
		{&probe.Package{Name: "openssh-server", Version: "< 1:9"}, "want < 1:9"},
		{&probe.Package{Name: "sudo", Installed: ptr(false)}, "want absent"},
		{&probe.Port{Port: "tcp:23"}, "nothing listens on tcp port 23"},
		{&probe.Port{Port: "tcp:8080", Addresses: []string{"0.0.0.0"}}, "not listening on 0.0.0.0 (only on 127.0.0.1)"},
		{&probe.File{Path: "/etc/golden-probe-test", Mode: "0600", Owner: "admin", Contents: []string{"gamma"}}, `mode 0640, want 0600; owner root, want admin; contents do not satisfy "gamma"`},
		{&probe.File{Path: "/etc/nope"}, "does not exist"},
		{&probe.Sysctl{Name: "net.ipv4.ip_forward", Value: "1"}, "is 0, want 1"},
		{&probe.Mount{Path: "/proc", Options: []string{"ro"}}, "lacks ro"},
		{&probe.Mount{Path: "/srv"}, "is not a mount point"},
		{&probe.User{Name: h.User, Shell: "/bin/zsh", Groups: []string{"docker"}}, "shell /bin/bash, want /bin/zsh; not in docker"},
		{&probe.Group{Name: "docker"}, "no such group"},
		{&probe.Process{Name: "nginx"}, "no such process"},
		{&probe.Command{Command: "ls /nonexistent"}, "exit status 2, want 0"},
		{&probe.Command{Command: "echo version 1", Stdout: []string{"version 2"}}, `stdout does not satisfy "version 2"`},
		{&probe.HTTP{URL: "http://127.0.0.1:8080/missing"}, "status 404, want 200"},
		{&probe.HTTP{URL: "http://127.0.0.1:8081/"}, "no answer"},
		// A directory listing answers the token-less GET: what a metadata service allowing IMDSv1 does.
		{&probe.IMDSv2{Endpoint: "http://127.0.0.1:8080"}, "IMDSv1 is allowed"},
		{&probe.BuildLeftovers{AllowedKeys: []string{key}}, "authorized keys not launched with: /home/" + h.User + "/.ssh/authorized_keys (SHA256:"},
	}
	var probes []probe.Probe
	for _, f := range failing {
		probes = append(probes, f.probe)
	}
	results = runProbes(t, comm, probes, time.Second)
	for i, r := range results {
		if r.Pass || !strings.Contains(r.Message, failing[i].message) {
			t.Errorf("%s: pass=%v %q, want a failure with %q", probe.ID(r.Probe), r.Pass, r.Message, failing[i].message)
		}
		if r.Attempts < 2 {
			t.Errorf("%s was not retried until its deadline (%d attempts)", probe.ID(r.Probe), r.Attempts)
		}
	}
	leftovers := results[len(results)-1].Message
	for _, want := range []string{"packer_build", "shell history: /root/.bash_history", "/tmp/packer-shell-1234", "/var/tmp/script_9999.sh",
		"build reports readable by every user: /var/log/golden/harden-report.json"} {
		if !strings.Contains(leftovers, want) {
			t.Errorf("no_build_leftovers does not name %q: %s", want, leftovers)
		}
	}

	// Without curl, Python's standard library makes the request.
	h.MustRun(t, "sudo mv /usr/bin/curl /usr/bin/curl.hidden")
	results = runProbes(t, comm, []probe.Probe{
		&probe.HTTP{URL: "http://127.0.0.1:8080/", Body: []string{"healthy"}},
		&probe.IMDSv2{Endpoint: "http://127.0.0.1:8080"},
	}, time.Second)
	if !results[0].Pass || results[1].Pass || !strings.Contains(results[1].Message, "IMDSv1 is allowed") {
		t.Errorf("without curl: %+v", results)
	}
	if n := comm.Connections(); n != 1 {
		t.Errorf("%d SSH connections after three runs, want 1", n)
	}
	if out := h.MustRun(t, "ls -d /tmp/golden-validate* 2>/dev/null | wc -l"); strings.TrimSpace(out) != "0" {
		t.Errorf("the probe script left files in /tmp: %s", out)
	}
}
