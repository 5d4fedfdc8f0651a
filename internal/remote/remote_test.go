package remote

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/remote/remotetest"
)

func TestRunScriptSplitsRecordsFromOutput(t *testing.T) {
	dir := t.TempDir()
	r := &Runner{Comm: &remotetest.Local{}}
	script := `printf 'hello\n@@m@@ {"a":1}\n'
echo 'warn' >&2
printf '@@m@@ {"a":2}\r\n@@m@@not-a-record\n'
printf 'no newline at the end'
exit 3`
	var records []string
	var output []string
	status, err := r.RunScript(context.Background(), Script{
		Path: filepath.Join(dir, "s.sh"), Content: []byte(script), Marker: "@@m@@",
		OnRecord: func(p []byte) error { records = append(records, string(p)); return nil },
		OnOutput: func(stderr bool, line string) { output = append(output, fmt.Sprintf("%v:%s", stderr, line)) },
	})
	if err != nil || status != 3 {
		t.Fatalf("status %d err %v", status, err)
	}
	if strings.Join(records, "|") != `{"a":1}|{"a":2}` {
		t.Errorf("records %q", records)
	}
	got := strings.Join(output, "|")
	for _, want := range []string{"false:hello", "true:warn", "false:@@m@@not-a-record", "false:no newline at the end"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
}

// Without input for the script, writing and running it take one session; the script is private
// to its owner, and a file already at its path (a link planted there) is neither followed nor run.
func TestRunScriptInOneSession(t *testing.T) {
	dir := t.TempDir()
	local := &remotetest.Local{}
	r := &Runner{Comm: local}
	path := filepath.Join(dir, "s.sh")
	var output []string
	status, err := r.RunScript(context.Background(), Script{Path: path, Content: []byte("echo ran; ls -l " + ShellQuote(path)),
		OnOutput: func(_ bool, line string) { output = append(output, line) }})
	if err != nil || status != 0 || len(local.Commands) != 1 {
		t.Fatalf("status %d, err %v, %d sessions", status, err, len(local.Commands))
	}
	if len(output) != 2 || output[0] != "ran" || !strings.HasPrefix(output[1], "-rw-------") {
		t.Errorf("output %q", output)
	}
	planted := filepath.Join(dir, "planted.sh")
	target := filepath.Join(dir, "elsewhere")
	if err := os.Symlink(target, planted); err != nil {
		t.Fatal(err)
	}
	status, err = r.RunScript(context.Background(), Script{Path: planted, Content: []byte("echo ran")})
	if err != nil || status == 0 {
		t.Errorf("a script over a planted link: status %d, err %v", status, err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the planted link was followed: %v", err)
	}
}

func TestRunScriptReturnsTheFirstRecordErrorAfterTheScriptEnded(t *testing.T) {
	dir := t.TempDir()
	r := &Runner{Comm: &remotetest.Local{}}
	calls := 0
	_, err := r.RunScript(context.Background(), Script{
		Path: filepath.Join(dir, "s.sh"), Marker: "@@m@@",
		Content:  []byte("echo '@@m@@ bad'; echo '@@m@@ worse'; touch " + ShellQuote(filepath.Join(dir, "ran-to-the-end"))),
		OnRecord: func(p []byte) error { calls++; return fmt.Errorf("record %d: %s", calls, p) },
	})
	if err == nil || err.Error() != "record 1: bad" || calls != 2 {
		t.Errorf("err %v calls %d", err, calls)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "ran-to-the-end")); statErr != nil {
		t.Error("the script was interrupted")
	}
}

func TestDisconnectIsAnError(t *testing.T) {
	r := &Runner{Comm: &remotetest.Local{Disconnect: true}}
	_, _, _, err := r.Exec(context.Background(), "true")
	if !errors.Is(err, ErrDisconnected) {
		t.Errorf("err = %v", err)
	}
}

func TestCancelStopsWaiting(t *testing.T) {
	r := &Runner{Comm: &remotetest.Local{}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, _, err := r.Exec(ctx, "sleep 5")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("err = %v after %v", err, time.Since(start))
	}
}

func TestSudoWrapping(t *testing.T) {
	local := &remotetest.Local{}
	r := &Runner{Comm: local, Sudo: true}
	if got := r.AsRoot("mkdir -p /x && echo 'a'"); got != `sudo -n sh -c 'mkdir -p /x && echo '\''a'\'''` {
		t.Errorf("AsRoot = %s", got)
	}
	// The script command itself: written from the session's input, then run, with sudo only when
	// asked for root and needed.
	dir := t.TempDir()
	s, tt := filepath.Join(dir, "s.sh"), filepath.Join(dir, "t.sh")
	_, _ = r.RunScript(context.Background(), Script{Path: s, Content: []byte("true"), Root: true})
	_, _ = (&Runner{Comm: local}).RunScript(context.Background(), Script{Path: tt, Content: []byte("true"), Root: true})
	want := []string{"(set -C; umask 077; cat >'" + s + "') && sudo -n sh '" + s + "'", "(set -C; umask 077; cat >'" + tt + "') && sh '" + tt + "'"}
	if strings.Join(local.Commands, "\n") != strings.Join(want, "\n") {
		t.Errorf("commands %q, want %q", local.Commands, want)
	}
}

func TestUploadDownloadExec(t *testing.T) {
	dir := t.TempDir()
	r := &Runner{Comm: &remotetest.Local{}}
	path := filepath.Join(dir, "f")
	if err := r.Upload(context.Background(), path, []byte("content")); err != nil {
		t.Fatal(err)
	}
	b, err := r.Download(context.Background(), path)
	if err != nil || string(b) != "content" {
		t.Fatalf("download %q %v", b, err)
	}
	out, errOut, status, err := r.Exec(context.Background(), "cat "+ShellQuote(path)+"; echo e >&2; exit 4")
	if out != "content" || errOut != "e\n" || status != 4 || err != nil {
		t.Errorf("exec: %q %q %d %v", out, errOut, status, err)
	}
	if _, err := r.Download(context.Background(), filepath.Join(dir, "missing")); err == nil {
		t.Error("downloading a missing file succeeded")
	}
}

func TestPut(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("installs a root-owned file")
	}
	dir := t.TempDir()
	local := &remotetest.Local{}
	r := &Runner{Comm: local}
	dest := filepath.Join(dir, "var", "log", "golden", "report.json")
	tmp := filepath.Join(dir, "upload.tmp")
	if err := r.Put(context.Background(), dest, []byte("{}"), 0o600, tmp); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dest); err != nil || string(b) != "{}" || len(local.Commands) != 1 {
		t.Fatalf("content %q, err %v, %d sessions", b, err, len(local.Commands))
	}
	// A report on the image names every weakness the run left: root reads it, nobody else.
	info, err := os.Stat(dest)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v %v", info, err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("the temporary upload was left behind")
	}
	if err := r.Put(context.Background(), filepath.Join(dest, "under-a-file"), []byte("{}"), 0o600, tmp); err == nil {
		t.Error("an impossible destination did not fail")
	}
}

// A cancelled command may go on writing its output after Exec returned: what Exec returns must
// not be read from a buffer the command still writes into (go test -race catches that).
func TestCancelWhileTheCommandWrites(t *testing.T) {
	r := &Runner{Comm: &remotetest.Local{}}
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		stdout, _, _, err := r.Exec(ctx, "timeout 0.3 sh -c 'while :; do echo output; done'")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		_ = strings.Count(stdout, "\n")
	}
	time.Sleep(350 * time.Millisecond)
}

// Neither are the callbacks of a script called any more once RunScript returned: the caller reads
// what they collected.
func TestCancelledScriptCallsNothingAfterReturning(t *testing.T) {
	dir := t.TempDir()
	r := &Runner{Comm: &remotetest.Local{}}
	var lines []string
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.RunScript(ctx, Script{
		Path: filepath.Join(dir, "s.sh"), Marker: "@@m@@",
		Content:  []byte("timeout 0.3 sh -c 'while :; do echo output; echo \"@@m@@ {}\"; done'"),
		OnOutput: func(_ bool, line string) { lines = append(lines, line) },
		OnRecord: func(p []byte) error { lines = append(lines, string(p)); return nil },
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	seen := len(lines)
	time.Sleep(350 * time.Millisecond)
	if len(lines) != seen {
		t.Errorf("%d lines delivered after RunScript returned", len(lines)-seen)
	}
}
