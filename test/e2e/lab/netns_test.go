package lab

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNetnsRelay makes a network namespace, listens inside it, and checks that the listener is
// out of the host's reach except through relay, that processes started in it see only its
// loopback device, and that the test's own threads are back in the host's namespace afterwards.
func TestNetnsRelay(t *testing.T) {
	ns, err := newNetns()
	if errors.Is(err, unix.EPERM) {
		t.Skip("making a network namespace needs root (CAP_SYS_ADMIN)")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command")
	}

	var links string
	var inside net.Listener
	err = ns.do(func() error {
		out, err := exec.Command("ip", "-o", "link", "show").CombinedOutput()
		links = string(out)
		if err != nil {
			return err
		}
		if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
			return errors.New(string(out))
		}
		inside, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if n := strings.Count(strings.TrimSpace(links), "\n") + 1; n != 1 || !strings.Contains(links, ": lo:") {
		t.Errorf("a new namespace has %d links:\n%s", n, links)
	}
	go func() {
		for {
			c, err := inside.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "from inside\n")
			c.Close()
		}
	}()

	// The host's 127.0.0.1 at that port is not the namespace's (nothing listens, or someone else).
	if c, err := net.Dial("tcp", inside.Addr().String()); err == nil {
		b, _ := io.ReadAll(c)
		c.Close()
		if string(b) == "from inside\n" {
			t.Error("the namespace's listener answers on the host's loopback")
		}
	}

	outside, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	go ns.relay(outside, inside.Addr().String())
	c, err := net.Dial("tcp", outside.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(b) != "from inside\n" {
		t.Errorf("through the relay: %q, %v", b, err)
	}

	host, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := onThreadIn(func() error { return nil }, func() error {
			now, err := os.Readlink("/proc/thread-self/ns/net")
			if err == nil && now != host {
				err = errors.New("a thread is still in " + now + ", the process is in " + host)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}
