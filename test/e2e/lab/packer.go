package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/syncbuf"
	"github.com/golden-ami/packer-plugin-golden/version"
)

// pluginSource is the address templates and `packer plugins install` use for this plugin.
const pluginSource = "github.com/golden-ami/golden"

// packerRunTimeout bounds one packer invocation; a build against a target takes seconds to minutes.
const packerRunTimeout = 15 * time.Minute

// Simulator credentials: the simulator accepts any static key and reads the region from the
// request's signing scope.
const (
	SimAccessKeyID     = "AKIDSIMULATOR"
	SimSecretAccessKey = "simulator"
	SimRegion          = "us-east-1"
)

// noAWS is where AWS clients go unless a test points them at the simulator: a closed port on
// the loopback, so a forgotten UseSim fails fast instead of reaching a real endpoint.
const noAWS = "http://127.0.0.1:1"

// PackerEnv runs the real packer binary with this repository's plugin installed in private
// folders, isolated from the developer's own packer and AWS configuration.
type PackerEnv struct {
	// Dir is the test's working folder: packer runs here, templates and reports live here.
	Dir string
	// RunTimeout bounds each Run; 0 is 15 minutes. Builds on an emulated VM need more.
	RunTimeout time.Duration

	bin string
	env map[string]string
}

// Result is what one packer invocation did.
type Result struct {
	ExitCode int
	// Output is stdout and stderr as packer interleaved them.
	Output string
}

// Packer returns a packer environment for the test: the plugin is built and installed once per
// test binary; config and cache folders are the test's own.
func Packer(t *testing.T) *PackerEnv {
	t.Helper()
	bin, err := packerBinary()
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	plugins, err := installedPlugin()
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	tmp := t.TempDir()
	p := &PackerEnv{Dir: filepath.Join(tmp, "work"), bin: bin, env: map[string]string{}}
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		t.Fatalf("lab: %v", err)
	}
	for k, v := range packerEnv(plugins, tmp) {
		p.env[k] = v
	}
	return p
}

// packerEnv is the environment of every packer run, on top of the filtered process environment.
func packerEnv(plugins, tmp string) map[string]string {
	env := map[string]string{
		"CHECKPOINT_DISABLE": "1",
		"PACKER_PLUGIN_PATH": plugins,
		"PACKER_CONFIG_DIR":  filepath.Join(tmp, "config"),
		"PACKER_CACHE_DIR":   filepath.Join(tmp, "cache"),
		// Never the developer's profiles, credentials or instance metadata.
		"AWS_CONFIG_FILE":             filepath.Join(tmp, "aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            noAWS,
	}
	if os.Getenv("GOLDEN_E2E_PACKER_LOG") != "" {
		env["PACKER_LOG"] = "1"
	}
	return env
}

// inheritedEnv keeps the process environment except what would let the developer's own packer or
// AWS settings leak into a test (PACKER_*, AWS_*, CHECKPOINT_*).
func inheritedEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PACKER_") || strings.HasPrefix(name, "AWS_") ||
			strings.HasPrefix(name, "CHECKPOINT_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Setenv sets a variable for the packer processes this environment runs.
func (p *PackerEnv) Setenv(key, value string) { p.env[key] = value }

// UseSim points packer's AWS clients at the simulator, with static credentials and a region.
func (p *PackerEnv) UseSim(s *ec2sim.Server) {
	p.Setenv("AWS_ENDPOINT_URL", s.URL())
	p.Setenv("AWS_ACCESS_KEY_ID", SimAccessKeyID)
	p.Setenv("AWS_SECRET_ACCESS_KEY", SimSecretAccessKey)
	p.Setenv("AWS_REGION", SimRegion)
	p.Setenv("AWS_DEFAULT_REGION", SimRegion)
	p.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func (p *PackerEnv) environ() []string {
	env := inheritedEnv(os.Environ())
	keys := make([]string, 0, len(p.env))
	for k := range p.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+p.env[k])
	}
	return env
}

// Run runs packer with args in p.Dir and returns its exit code and output. A non-zero exit is a
// result, not a failure: the test decides. Not being able to run packer at all fails the test.
func (p *PackerEnv) Run(t *testing.T, args ...string) Result {
	t.Helper()
	timeout := packerRunTimeout
	if p.RunTimeout > 0 {
		timeout = p.RunTimeout
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Dir = p.Dir
	cmd.Env = p.environ()
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// An interrupt lets packer clean up as it does on Ctrl-C; WaitDelay bounds that.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	started := time.Now()
	err := cmd.Run()
	res := Result{Output: out.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("lab: packer %s did not finish within %s:\n%s", strings.Join(args, " "), timeout, res.Output)
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("lab: running packer %s: %v\n%s", strings.Join(args, " "), err, res.Output)
	}
	t.Logf("packer %s: exit %d after %s", strings.Join(args, " "), res.ExitCode, time.Since(started).Round(time.Millisecond))
	return res
}

// WriteFile writes content to name inside p.Dir (folders created) and returns its path.
func (p *PackerEnv) WriteFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(p.Dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatalf("lab: %v", err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return path
}

// ReadFile returns the content of name inside p.Dir, e.g. a report packer wrote.
func (p *PackerEnv) ReadFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(p.Dir, name))
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	return string(data)
}

// scratch is the per-test-binary folder holding the plugin build and its installation, removed by
// Main when the tests are done.
var scratch = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "golden-e2e-")
	scratchDir = dir
	return dir, err
})

// scratchDir is scratch's folder once created; Main removes it.
var scratchDir string

// PluginBinaryEnv names a plugin binary already built from this working tree (by `go build` with
// DevVersionLDFlags, as scripts/bench.sh does once for all its suites), which Packer installs
// instead of building its own.
const PluginBinaryEnv = "GOLDEN_E2E_PLUGIN_BINARY"

// installedPlugin builds the plugin from the working tree (unless PluginBinaryEnv names a build)
// and installs it with `packer plugins install --path`, once per test binary; it returns the
// PACKER_PLUGIN_PATH.
var installedPlugin = sync.OnceValues(func() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	packer, err := packerBinary()
	if err != nil {
		return "", err
	}
	dir, err := scratch()
	if err != nil {
		return "", err
	}
	bin := os.Getenv(PluginBinaryEnv)
	if bin == "" {
		bin = filepath.Join(dir, "bin", "packer-plugin-golden")
		build := exec.Command("go", "build", "-o", bin, "-ldflags", DevVersionLDFlags(), ".")
		build.Dir = root
		build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("building the plugin: %w\n%s", err, out)
		}
	}
	plugins := filepath.Join(dir, "plugins")
	install := exec.Command(packer, "plugins", "install", "--path", bin, pluginSource)
	install.Dir = dir
	install.Env = append(inheritedEnv(os.Environ()),
		"CHECKPOINT_DISABLE=1",
		"PACKER_PLUGIN_PATH="+plugins,
		"PACKER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"PACKER_CACHE_DIR="+filepath.Join(dir, "cache"))
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("packer plugins install --path: %w\n%s", err, out)
	}
	return plugins, nil
})

// DevVersionLDFlags are the -ldflags of a test build of the plugin (devVersionLDFlags).
func DevVersionLDFlags() string { return devVersionLDFlags(version.VersionPrerelease) }

// devVersionLDFlags marks the test build as a development version when the tree carries a release
// version, so a test installation can never be mistaken for (or shadowed by) a release.
func devVersionLDFlags(prerelease string) string {
	if prerelease != "" {
		return ""
	}
	return "-X " + modulePath + "/version.VersionPrerelease=dev"
}

// Main runs the tests and then removes what the harness built for them. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(lab.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if scratchDir != "" {
		os.RemoveAll(scratchDir)
	}
	return code
}

// amazonPluginSource is the address templates use for the official amazon plugin.
const amazonPluginSource = "github.com/hashicorp/amazon"

// AmazonPluginVersion is the amazon plugin the end-to-end tests run (pinned in scripts/tools.sh).
const AmazonPluginVersion = "1.8.0"

// installedAmazonPlugin builds the official amazon plugin with scripts/tools.sh (from the module
// proxy, minutes the first time, cached in .tools/ after) and installs it with `packer plugins
// install --path` beside this plugin, once per test binary.
var installedAmazonPlugin = sync.OnceValues(func() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	plugins, err := installedPlugin()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".tools", "packer-plugin-amazon")
	cmd := exec.Command(filepath.Join(root, "scripts", "tools.sh"), "packer-plugin-amazon")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the amazon plugin with scripts/tools.sh packer-plugin-amazon: %w\n%s", err, out)
	}
	packer, err := packerBinary()
	if err != nil {
		return "", err
	}
	dir, err := scratch()
	if err != nil {
		return "", err
	}
	install := exec.Command(packer, "plugins", "install", "--path", bin, amazonPluginSource)
	install.Dir = dir
	install.Env = append(inheritedEnv(os.Environ()),
		"CHECKPOINT_DISABLE=1",
		"PACKER_PLUGIN_PATH="+plugins,
		"PACKER_CONFIG_DIR="+filepath.Join(dir, "config"),
		"PACKER_CACHE_DIR="+filepath.Join(dir, "cache"))
	if out, err := install.CombinedOutput(); err != nil {
		return "", fmt.Errorf("packer plugins install --path %s: %w\n%s", bin, err, out)
	}
	return plugins, nil
})

// UseAmazonPlugin makes the official amazon plugin (amazon-ebs and the other builders of
// packer-plugin-amazon, version AmazonPluginVersion) available to this environment's packer runs.
func (p *PackerEnv) UseAmazonPlugin(t *testing.T) {
	t.Helper()
	if _, err := installedAmazonPlugin(); err != nil {
		t.Fatalf("lab: %v", err)
	}
}

// Running is a process started by Start or StartCommand (packer, or a script running it): its
// output grows while it runs, and the test can interrupt or kill it at a point of its choosing.
type Running struct {
	cmd     *exec.Cmd
	out     *syncbuf.Buffer
	started time.Time
	timeout time.Duration
	done    chan struct{}
	err     error
	args    []string
}

// Start runs packer with args in p.Dir in its own process group (packer and its plugins), and
// returns at once. Wait collects the result; the test's end kills what is still running.
func (p *PackerEnv) Start(t *testing.T, args ...string) *Running {
	t.Helper()
	return p.start(t, &syscall.SysProcAttr{Setpgid: true}, nil, args)
}

// start runs packer with args, its process attributes and standard input (nil: none).
func (p *PackerEnv) start(t *testing.T, attr *syscall.SysProcAttr, stdin *os.File, args []string) *Running {
	t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = p.Dir
	cmd.Env = p.environ()
	cmd.SysProcAttr = attr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	return startCommand(t, cmd, packerRunTimeout)
}

// StartCommand runs cmd in its own process group, as a shell runs a command in the foreground
// of a terminal, and returns at once; Wait gives it timeout from its start. The test's end kills
// the group if it still runs.
func StartCommand(t *testing.T, cmd *exec.Cmd, timeout time.Duration) *Running {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return startCommand(t, cmd, timeout)
}

// startCommand starts cmd as it is set up (process attributes, standard input).
func startCommand(t *testing.T, cmd *exec.Cmd, timeout time.Duration) *Running {
	t.Helper()
	r := &Running{cmd: cmd, out: &syncbuf.Buffer{}, done: make(chan struct{}), args: cmd.Args[1:], timeout: timeout}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("lab: starting %s: %v", strings.Join(cmd.Args, " "), err)
	}
	r.started = time.Now()
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.Kill()
			<-r.done
		}
	})
	return r
}

// InheritedEnv is the test process's environment without what would let the developer's own
// packer or AWS settings reach a command (PACKER_*, AWS_*, CHECKPOINT_*).
func InheritedEnv() []string { return inheritedEnv(os.Environ()) }

// Output is what packer printed so far.
func (r *Running) Output() string { return r.out.String() }

// Interrupt sends SIGINT to the process group, as Ctrl-C in its terminal does. For packer: its
// outer process ignores it (its panic wrapper), the packer it runs cancels the builds and lets
// them clean up, and the plugins leave the shutdown to packer.
func (r *Running) Interrupt() error { return syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT) }

// Kill sends SIGKILL to the process group (packer and its plugins) at once: nothing of the build
// runs afterwards, as after a crash of the machine running it.
func (r *Running) Kill() error { return syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL) }

// WaitForOutput waits until the process printed want and reports whether it did within timeout
// (false also when the process ended first).
func (r *Running) WaitForOutput(want string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(r.Output(), want) {
			return true
		}
		select {
		case <-r.done:
			return strings.Contains(r.Output(), want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// Wait waits for the process to end (at most its timeout from its start, then it is killed) and
// returns its exit code and output; a process killed by a signal has exit code -1.
func (r *Running) Wait(t *testing.T) Result {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(r.timeout - time.Since(r.started)):
		r.Kill()
		<-r.done
		t.Fatalf("lab: %s %s did not finish within %s:\n%s", r.cmd.Path, strings.Join(r.args, " "), r.timeout, r.Output())
	}
	res := Result{Output: r.Output()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(r.err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	case r.err != nil:
		t.Fatalf("lab: running %s %s: %v\n%s", r.cmd.Path, strings.Join(r.args, " "), r.err, res.Output)
	}
	t.Logf("%s %s: exit %d after %s", filepath.Base(r.cmd.Path), strings.Join(r.args, " "), res.ExitCode, time.Since(r.started).Round(time.Millisecond))
	return res
}
