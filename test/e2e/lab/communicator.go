package lab

import (
	"net"
	"sync"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	sshcomm "github.com/hashicorp/packer-plugin-sdk/sdk-internals/communicator/ssh"
)

// Communicator is what a Packer build talks to the target through: the SDK's SSH communicator
// (the one the SSH communicator of every builder uses), as the build user, host key checked.
type Communicator struct {
	packersdk.Communicator

	mu    sync.Mutex
	conns []net.Conn
}

// Connections is how many TCP connections the communicator has opened so far.
func (c *Communicator) Connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.conns)
}

// Communicator connects to the target; the connection is closed when the test ends.
func (h *TargetHost) Communicator(t *testing.T) *Communicator {
	t.Helper()
	cfg, err := h.ClientConfig()
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	c := &Communicator{}
	dial := sshcomm.ConnectFunc("tcp", h.Address())
	comm, err := sshcomm.New(h.Address(), &sshcomm.Config{
		SSHConfig: cfg,
		Connection: func() (net.Conn, error) {
			conn, err := dial()
			if err == nil {
				c.mu.Lock()
				c.conns = append(c.conns, conn)
				c.mu.Unlock()
			}
			return conn, err
		},
	})
	if err != nil {
		t.Fatalf("lab: SSH communicator to %s: %v", h.Address(), err)
	}
	c.Communicator = comm
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, conn := range c.conns {
			conn.Close()
		}
	})
	return c
}
