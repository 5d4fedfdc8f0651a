// Package remotetest provides a packersdk.Communicator that runs on the local machine, for tests
// of code that drives a build target.
package remotetest

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// Local runs commands with `sh -c` on this machine; uploads and downloads are file copies.
type Local struct {
	Env []string // extra environment for commands
	// Disconnect, when set, makes every command after it started end as if the connection
	// dropped (exit status packersdk.CmdDisconnect).
	Disconnect bool
	// Commands records every command started, in order.
	Commands []string
}

var _ packersdk.Communicator = (*Local)(nil)

// Start runs the command in the background and reports its exit status through cmd.
func (l *Local) Start(ctx context.Context, cmd *packersdk.RemoteCmd) error {
	l.Commands = append(l.Commands, cmd.Command)
	c := exec.Command("sh", "-c", cmd.Command)
	c.Env = append(os.Environ(), l.Env...)
	c.Stdout, c.Stderr = cmd.Stdout, cmd.Stderr
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	// A pipe, not c.Stdin: Wait would wait for a reader that never ends (a caller that keeps its
	// input open while it reads the answers), as an SSH session does not.
	var stdin io.WriteCloser
	if cmd.Stdin != nil {
		var err error
		if stdin, err = c.StdinPipe(); err != nil {
			return err
		}
	}
	if err := c.Start(); err != nil {
		return err
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, cmd.Stdin)
			stdin.Close()
		}()
	}
	go func() {
		err := c.Wait()
		status := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			status = exit.ExitCode()
		} else if err != nil {
			status = 1
		}
		if l.Disconnect {
			status = packersdk.CmdDisconnect
		}
		cmd.SetExited(status)
	}()
	return nil
}

// Upload writes the file locally, creating parent directories.
func (l *Local) Upload(path string, r io.Reader, _ *os.FileInfo) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Download copies the local file to w.
func (l *Local) Download(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// UploadDir is not needed by the code under test.
func (l *Local) UploadDir(string, string, []string) error {
	return errors.New("remotetest: UploadDir is not implemented")
}

// DownloadDir is not needed by the code under test.
func (l *Local) DownloadDir(string, string, []string) error {
	return errors.New("remotetest: DownloadDir is not implemented")
}
