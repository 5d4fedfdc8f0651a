package lab

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// A netns is a network namespace the test made for itself, held open by a file of its own (it
// goes away with the last process in it once that file is closed). The VM's qemu runs in one.
type netns struct{ f *os.File }

// newNetns makes a network namespace; only its loopback device is in it, down.
func newNetns() (*netns, error) {
	var ns *netns
	err := onThreadIn(func() error { return unix.Unshare(unix.CLONE_NEWNET) }, func() error {
		f, err := os.Open("/proc/thread-self/ns/net")
		ns = &netns{f: f}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unshare: %w", err)
	}
	return ns, nil
}

// Close lets the namespace go once no process is left in it.
func (n *netns) Close() error { return n.f.Close() }

// do runs fn on a thread in the namespace: the sockets fn opens are the namespace's, and the
// processes it starts run in it.
func (n *netns) do(fn func() error) error {
	return onThreadIn(func() error { return unix.Setns(int(n.f.Fd()), unix.CLONE_NEWNET) }, fn)
}

// onThreadIn runs enter and then fn on one OS thread of their own, then puts the thread back
// into the process's network namespace. A thread that cannot go back is never used again: its
// goroutine ends locked to it, and the Go runtime ends the thread with it.
func onThreadIn(enter, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		back, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer back.Close()
		if err := enter(); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		err = fn()
		if unix.Setns(int(back.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// relay accepts connections on ln (outside the namespace) and joins each to a new connection to
// addr inside it, until ln is closed.
func (n *netns) relay(ln net.Listener, addr string) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			var up net.Conn
			if n.do(func() (err error) { up, err = net.DialTimeout("tcp", addr, 10*time.Second); return err }) != nil {
				return
			}
			defer up.Close()
			go func() {
				_, _ = io.Copy(up, c)
				_ = up.(*net.TCPConn).CloseWrite()
			}()
			_, _ = io.Copy(c, up)
		}()
	}
}
