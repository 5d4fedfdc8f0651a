package lab

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HardeningPackages are the packages golden-harden's profiles install with default options: the
// daemons' modules (ufw, auditd, fail2ban, chrony), the pam, sudo and accounting modules, debsums,
// and the packages module's default list. WithPackages(HardeningPackages...) boots an image that
// has them already, for tests that must not depend on the mirror. test/target/target.sh's
// "hardening" set is the same list.
var HardeningPackages = []string{
	"ufw", "auditd", "audispd-plugins", "fail2ban", "python3-systemd", "chrony", "libpam-pwquality", "cracklib-runtime",
	"libpam-tmpdir", "debsums", "acct", "sudo", "cron",
	"ca-certificates", "curl", "wget", "git", "vim", "htop", "tree", "unzip", "jq", "gnupg", "lsb-release", "python3-venv", "rsyslog",
}

// scriptTimeout bounds one target.sh call: the first start may build the image (a minute or two).
const scriptTimeout = 15 * time.Minute

// rebootTimeout bounds how long Reboot waits for SSH to answer again.
const rebootTimeout = 2 * time.Minute

// TargetHost is a running Debian 12 target, reachable over SSH like a fresh EC2 instance.
type TargetHost struct {
	Name string
	// Host and Port are where sshd answers: an address inside a network namespace of the lab.
	Host string
	Port int
	// User is the cloud-like build user: key-only login, passwordless sudo.
	User    string
	KeyPath string
	// KnownHostsPath holds the target's host keys; Client and Run verify them.
	KnownHostsPath string
	// ProxyURL is the apt proxy on the host's end of the target's veth.
	ProxyURL string

	// bootWait bounds Reboot's wait for SSH; 0 is rebootTimeout. A machine's boot runs cloud-init.
	bootWait time.Duration
}

// TargetOption changes the target Target boots.
type TargetOption func(*targetConfig)

type targetConfig struct {
	packages []string
	sshPort  int
}

// WithPackages boots an image with these Debian packages pre-installed (built once and cached,
// on the first test that asks for this set).
func WithPackages(packages ...string) TargetOption {
	return func(c *targetConfig) { c.packages = append(c.packages, packages...) }
}

// WithSSHPort makes the target's sshd listen on port instead of 22.
func WithSSHPort(port int) TargetOption {
	return func(c *targetConfig) { c.sshPort = port }
}

// startArgs are target.sh's arguments to start the target name with cfg for the process owner:
// the target stops itself once that process is gone, so a test binary that is killed (and runs
// no cleanup) leaves nothing running.
func startArgs(name string, cfg targetConfig, owner int) []string {
	args := []string{"start", name, "--owner", strconv.Itoa(owner)}
	if len(cfg.packages) > 0 {
		args = append(args, "--packages", strings.Join(cfg.packages, ","))
	}
	if cfg.sshPort != 0 && cfg.sshPort != 22 {
		args = append(args, "--port", strconv.Itoa(cfg.sshPort))
	}
	return args
}

// Target boots a fresh target from the pristine image under a name unique to this test, and
// stops it (overlay, veth, proxy and all) when the test ends. On failure the target's console
// and journal tail go to the test log first.
func Target(t *testing.T, opts ...TargetOption) *TargetHost {
	t.Helper()
	RequireLab(t)
	cfg := targetConfig{sshPort: 22}
	for _, opt := range opts {
		opt(&cfg)
	}
	name := targetName(t.Name(), randomSuffix(t))
	t.Cleanup(func() {
		if t.Failed() {
			if out, _, err := runScript(t, "logs", name); err == nil {
				t.Logf("target %s, console and journal:\n%s", name, out)
			}
		}
		if _, stderr, err := runScript(t, "stop", name); err != nil {
			t.Errorf("lab: stopping target %s: %v\n%s", name, err, stderr)
		}
	})
	started := time.Now()
	stdout, stderr, err := runScript(t, startArgs(name, cfg, os.Getpid())...)
	if err != nil {
		t.Fatalf("lab: starting target %s: %v\n%s", name, err, stderr)
	}
	host, err := parseTargetInfo(stdout)
	if err != nil {
		t.Fatalf("lab: target %s: %v\n%s", name, err, stdout)
	}
	t.Logf("target %s up at %s:%d after %s", host.Name, host.Host, host.Port, time.Since(started).Round(time.Millisecond))
	return host
}

// runScript runs test/target/target.sh with args and returns its stdout and stderr.
func runScript(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	return runScriptWithin(t, scriptTimeout, args...)
}

// runScriptWithin is runScript bounded by timeout. At the bound the script's whole process group
// gets SIGTERM (mmdebstrap then unmounts what it mounted and ends), and SIGKILL 30 s later: the
// script alone would leave its children running.
func runScriptWithin(t *testing.T, timeout time.Duration, args ...string) (string, string, error) {
	t.Helper()
	root := RepoRoot(t)
	// Not the test's context: cleanup must still stop the target after the test has ended.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "test", "target", "target.sh"), args...)
	cmd.Dir = root
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	stdout, err := newOutputFile()
	if err != nil {
		return "", "", err
	}
	defer stdout.Close()
	stderr, err := newOutputFile()
	if err != nil {
		return "", "", err
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	return readOutputFile(stdout), readOutputFile(stderr), err
}

// newOutputFile is an unlinked temporary file for a script's output. Files, not pipes: when this
// test binary is killed, a pipe would kill the script on its next line of output (SIGPIPE),
// halfway through a start or a stop; a file lets it finish (or clean up after itself).
func newOutputFile() (*os.File, error) {
	f, err := os.CreateTemp("", "golden-lab-output-")
	if err != nil {
		return nil, fmt.Errorf("lab: a file for target.sh's output: %w", err)
	}
	os.Remove(f.Name())
	return f, nil
}

func readOutputFile(f *os.File) string {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "(output unreadable: " + err.Error() + ")"
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "(output unreadable: " + err.Error() + ")"
	}
	return string(data)
}

// parseTargetInfo reads the key=value lines `target.sh start` prints.
func parseTargetInfo(out string) (*TargetHost, error) {
	values := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok {
			values[k] = v
		}
	}
	for _, k := range []string{"name", "host", "port", "user", "key", "known_hosts"} {
		if values[k] == "" {
			return nil, fmt.Errorf("target.sh start printed no %s", k)
		}
	}
	port, err := strconv.Atoi(values["port"])
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("target.sh start printed an invalid port %q", values["port"])
	}
	return &TargetHost{
		Name:           values["name"],
		Host:           values["host"],
		Port:           port,
		User:           values["user"],
		KeyPath:        values["key"],
		KnownHostsPath: values["known_hosts"],
		ProxyURL:       values["proxy"],
	}, nil
}

// targetName turns a test name into a valid, unique target name: lowercase letters, digits and
// dashes, at most 40 characters, ending in suffix. A long name keeps its end, where subtests are.
func targetName(testName, suffix string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimPrefix(testName, "Test")) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.TrimSuffix(b.String(), "-")
	if max := 40 - len(suffix) - 1; len(base) > max {
		base = strings.TrimPrefix(base[len(base)-max:], "-")
	}
	if base == "" {
		return "t-" + suffix
	}
	return base + "-" + suffix
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return hex.EncodeToString(b)
}

// Address is host:port for an SSH client.
func (h *TargetHost) Address() string {
	return net.JoinHostPort(h.Host, strconv.Itoa(h.Port))
}

// ClientConfig is an SSH client configuration for the build user that checks the target's host
// keys.
func (h *TargetHost) ClientConfig() (*ssh.ClientConfig, error) {
	pem, err := os.ReadFile(h.KeyPath)
	if err != nil {
		return nil, fmt.Errorf("reading the lab key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("parsing the lab key: %w", err)
	}
	hostKeys, err := knownhosts.New(h.KnownHostsPath)
	if err != nil {
		return nil, fmt.Errorf("reading the target's host keys: %w", err)
	}
	return &ssh.ClientConfig{
		User:            h.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         10 * time.Second,
	}, nil
}

func (h *TargetHost) dial() (*ssh.Client, error) {
	cfg, err := h.ClientConfig()
	if err != nil {
		return nil, err
	}
	c, err := ssh.Dial("tcp", h.Address(), cfg)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s@%s: %w", h.User, h.Address(), err)
	}
	return c, nil
}

// Client opens a new SSH connection as the build user, closed when the test ends.
func (h *TargetHost) Client(t *testing.T) *ssh.Client {
	t.Helper()
	c, err := h.dial()
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Run runs cmd on the target over a NEW SSH connection (so it sees sshd's current configuration)
// and returns its combined output. A command exiting non-zero returns *ssh.ExitError.
func (h *TargetHost) Run(t *testing.T, cmd string) (string, error) {
	t.Helper()
	c, err := h.dial()
	if err != nil {
		return "", err
	}
	return runAndClose(c, cmd)
}

// RunAs runs cmd over a NEW SSH connection as user, authenticated by auth alone, the host key
// checked, and returns its combined output.
func (h *TargetHost) RunAs(user string, auth ssh.AuthMethod, cmd string) (string, error) {
	cfg, err := h.ClientConfig()
	if err != nil {
		return "", err
	}
	cfg.User, cfg.Auth = user, []ssh.AuthMethod{auth}
	c, err := ssh.Dial("tcp", h.Address(), cfg)
	if err != nil {
		return "", fmt.Errorf("ssh %s@%s: %w", user, h.Address(), err)
	}
	return runAndClose(c, cmd)
}

// runAndClose runs cmd in one session of c, closes c, and returns the combined output. A command
// exiting non-zero returns *ssh.ExitError.
func runAndClose(c *ssh.Client, cmd string) (string, error) {
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		return "", fmt.Errorf("ssh session: %w", err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

// MustRun is Run that fails the test when the command cannot run or exits non-zero.
func (h *TargetHost) MustRun(t *testing.T, cmd string) string {
	t.Helper()
	out, err := h.Run(t, cmd)
	if err != nil {
		t.Fatalf("on %s: %s: %v\n%s", h.Name, cmd, err, out)
	}
	return out
}

// Reboot reboots the target and waits until SSH answers from the new boot. A reboot keeps the
// target's changes; /run and other tmpfs mounts start empty, as on a real machine.
func (h *TargetHost) Reboot(t *testing.T) {
	t.Helper()
	// Each boot of a target has its own boot id (uptime, though, is the host's).
	const bootID = "cat /proc/sys/kernel/random/boot_id"
	before := h.MustRun(t, bootID)
	// The connection drops while the command runs: its error says nothing.
	_, _ = h.Run(t, "sudo systemctl reboot")
	wait := rebootTimeout
	if h.bootWait > 0 {
		wait = h.bootWait
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if now, err := h.Run(t, bootID); err == nil && now != before {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("lab: target %s did not come back within %s after a reboot", h.Name, wait)
}
