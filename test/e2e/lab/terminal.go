package lab

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Terminal is the pseudo-terminal a packer started by StartInTerminal has as its controlling
// terminal: what a user types at packer's questions goes in through it.
type Terminal struct {
	master *os.File
}

// StartInTerminal runs packer like Start, in a session of its own whose controlling terminal and
// standard input are a new pseudo-terminal, as in an interactive shell. Packer's UI reads answers
// (-on-error=ask) from /dev/tty only: without a terminal every question gets an empty answer.
// Its output still goes to Running.Output.
func (p *PackerEnv) StartInTerminal(t *testing.T, args ...string) (*Running, *Terminal) {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatalf("lab: opening a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	// The terminal echoes what is typed; nobody reads that, but it must not fill up.
	go io.Copy(io.Discard, master)
	// The session leader's process group is packer's, so Interrupt and Kill still reach packer
	// and its plugins, and the terminal's foreground group is packer's: it is not "in the
	// background", where packer would not use the terminal.
	r := p.start(t, &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}, slave, args)
	slave.Close()
	return r, &Terminal{master: master}
}

// Type types line and Enter at the terminal. Packer's terminal reader is in raw mode and ends a
// line at a carriage return, as the Enter key sends it.
func (term *Terminal) Type(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(term.master, line+"\r"); err != nil {
		t.Fatalf("lab: typing %q at packer's terminal: %v", line, err)
	}
}

// openPTY opens a new pseudo-terminal pair (/dev/ptmx, then its /dev/pts/N).
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlocking the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("numbering the pseudo-terminal: %w", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}
