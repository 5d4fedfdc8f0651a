// Package remote runs commands and one-shot scripts on a build target through a Packer
// communicator: upload a script, run it once (as root through sudo when needed), stream its
// output lines to the user as they arrive, collect the marker-prefixed result lines it prints,
// and download files. golden-harden runs its hardening script with it; golden-validate runs its
// probe script on a booted image the same way.
package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// Runner runs things on one target.
type Runner struct {
	Comm packersdk.Communicator
	// Sudo runs root commands through `sudo -n` (never prompting: a password prompt would hang
	// the build). Leave it false when the communicator's user is root.
	Sudo bool
}

// ErrDisconnected means the connection to the target dropped while a command ran.
var ErrDisconnected = errors.New("the connection to the target was lost while the command ran")

// ShellQuote returns s as one single-quoted POSIX shell word.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// AsRoot prefixes a command with sudo when the runner needs it. The command runs under `sh -c`
// so that redirections and `&&` apply as root too.
func (r *Runner) AsRoot(command string) string {
	if !r.Sudo {
		return command
	}
	return "sudo -n sh -c " + ShellQuote(command)
}

// Exec runs a short command and returns its output. A non-zero exit status is not an error: the
// caller decides what it means.
func (r *Runner) Exec(ctx context.Context, command string) (stdout, stderr string, status int, err error) {
	var out, errOut lockedBuffer
	status, err = r.start(ctx, command, nil, &out, &errOut)
	return out.String(), errOut.String(), status, err
}

// lockedBuffer is the output of one command. When the context ends first, start returns while
// the communicator may still copy the command's output into it: reads and writes take turns.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs command with the given input and writers and waits for it.
func (r *Runner) start(ctx context.Context, command string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	cmd := &packersdk.RemoteCmd{Command: command, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if err := r.Comm.Start(ctx, cmd); err != nil {
		return 0, fmt.Errorf("starting %q on the target: %w", firstWords(command), err)
	}
	done := make(chan int, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case status := <-done:
		if status == packersdk.CmdDisconnect {
			return status, fmt.Errorf("running %q: %w", firstWords(command), ErrDisconnected)
		}
		return status, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("running %q: %w", firstWords(command), ctx.Err())
	}
}

func firstWords(command string) string {
	if len(command) > 60 {
		return command[:60] + "..."
	}
	return command
}

// Upload writes content to path on the target as the communicator's user.
func (r *Runner) Upload(ctx context.Context, path string, content []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Comm.Upload(path, bytes.NewReader(content), nil); err != nil {
		return fmt.Errorf("uploading %s: %w", path, err)
	}
	return nil
}

// Download reads a file from the target (readable by the communicator's user).
func (r *Runner) Download(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := r.Comm.Download(path, &buf); err != nil {
		return nil, fmt.Errorf("downloading %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

// Put writes content to path on the target as root (owner root, the given mode), creating parent
// directories: written to tmpPath first (a new file: an existing one is an error), then moved into
// place, in one session, the content going through the command's input.
func (r *Runner) Put(ctx context.Context, path string, content []byte, mode os.FileMode, tmpPath string) error {
	command := r.AsRoot(fmt.Sprintf("%[2]s && install -D -m %04[1]o -o root -g root %[3]s %[4]s; rc=$?; rm -f %[3]s; exit $rc",
		mode.Perm(), writeInput(tmpPath), ShellQuote(tmpPath), ShellQuote(path)))
	var errOut lockedBuffer
	status, err := r.start(ctx, command, bytes.NewReader(content), io.Discard, &errOut)
	stderr := errOut.String()
	if err != nil {
		return fmt.Errorf("installing %s: %w", path, err)
	}
	if status != 0 {
		return fmt.Errorf("installing %s: exit status %d: %s", path, status, strings.TrimSpace(stderr))
	}
	return nil
}

// writeInput is the shell that writes the command's input to a new file only its owner reads (an
// existing file or a planted link there is an error, not overwritten or followed).
func writeInput(path string) string {
	return "(set -C; umask 077; cat >" + ShellQuote(path) + ")"
}

// Script is one script to upload and run once.
type Script struct {
	Path    string // where to write it on the target (a new file: an existing one is an error)
	Content []byte
	Root    bool // run it as root (through sudo when the runner needs it)
	// Marker starts the result lines: a line "<Marker> <payload>" goes to OnRecord, every other
	// line to OnOutput. Empty: every line goes to OnOutput.
	Marker   string
	OnRecord func(payload []byte) error
	OnOutput func(stderr bool, line string)
	// Stdin feeds the script's standard input while it runs (nil: no input). A script that
	// answers requests on it can be asked many times in one session.
	Stdin io.Reader
}

// RunScript writes the script to the target, runs it with `sh`, and returns its exit status once
// it ended. The first error OnRecord returns is returned after the script ended (the script is
// not interrupted: it may be in the middle of changing the target).
//
// Without Stdin, writing and running take one session: the script comes through the command's
// input, which `cat` reads to its end before the script starts. With Stdin, the script is
// uploaded first, and the input is the script's.
func (r *Runner) RunScript(ctx context.Context, s Script) (int, error) {
	command := "sh " + ShellQuote(s.Path)
	if s.Root && r.Sudo {
		command = "sudo -n " + command
	}
	stdin := s.Stdin
	if stdin == nil {
		command = writeInput(s.Path) + " && " + command
		stdin = bytes.NewReader(s.Content)
	} else if err := r.Upload(ctx, s.Path, s.Content); err != nil {
		return 0, err
	}
	// mu serializes the callbacks, and returned stops them: once the context ends, start returns
	// while the communicator may still deliver output, which the caller must not see any more.
	var mu sync.Mutex
	var recordErr error
	returned := false
	handle := func(stderr bool, line string) {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			return
		}
		if !stderr && s.Marker != "" {
			if payload, ok := strings.CutPrefix(line, s.Marker+" "); ok {
				if s.OnRecord != nil {
					if err := s.OnRecord([]byte(payload)); err != nil && recordErr == nil {
						recordErr = err
					}
				}
				return
			}
		}
		if s.OnOutput != nil {
			s.OnOutput(stderr, line)
		}
	}
	stdout := &lineWriter{emit: func(l string) { handle(false, l) }}
	stderr := &lineWriter{emit: func(l string) { handle(true, l) }}
	status, err := r.start(ctx, command, stdin, stdout, stderr)
	if ctx.Err() == nil { // the command ended: nothing writes any more
		stdout.Flush()
		stderr.Flush()
	}
	mu.Lock()
	defer mu.Unlock()
	returned = true
	if err != nil {
		return status, err
	}
	return status, recordErr
}

// lineWriter calls emit once per complete line written to it (without the newline).
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSuffix(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		w.emit(line)
	}
	return len(p), nil
}

// Flush emits a last line that had no newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		line := string(w.buf)
		w.buf = nil
		w.emit(line)
	}
}
