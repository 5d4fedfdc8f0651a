package lab

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// InstanceSSH is an SSH server on the loopback that stands in for the sshd of the simulator's
// instances, for builds that must connect but run no command on the machine (the cleanup tests
// of golden-ebs, which need its key pair and security group without booting a machine per build).
// It lets a client in only with the public key of the key pair of an instance that is running,
// as cloud-init does on EC2, so a connection proves the build used its temporary key. It runs no
// command: an exec or shell request is refused, and says so.
type InstanceSSH struct {
	// Port is where it listens on 127.0.0.1.
	Port int

	mu       sync.Mutex
	accepted int
	onAuth   []func()
}

// StartInstanceSSH serves InstanceSSH for the instances of sim in region until the test ends.
func StartInstanceSSH(t *testing.T, sim *ec2sim.Server, region string) *InstanceSSH {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	srv := &InstanceSSH{}
	config := &ssh.ServerConfig{PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if name, ok := runningKeyPair(sim, region, key); ok {
			srv.mu.Lock()
			srv.accepted++
			hooks := srv.onAuth
			srv.onAuth = nil
			srv.mu.Unlock()
			for _, fn := range hooks {
				fn()
			}
			return &ssh.Permissions{Extensions: map[string]string{"key-pair": name}}, nil
		}
		return nil, fmt.Errorf("%s: no running instance has this key", meta.User())
	}}
	config.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	srv.Port = ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSSH(conn, config)
		}
	}()
	return srv
}

// Accepted is how many connections logged in.
func (s *InstanceSSH) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// OnLogin runs fn (once) when the next client logs in, before its login completes.
func (s *InstanceSSH) OnLogin(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAuth = append(s.onAuth, fn)
}

// runningKeyPair finds the key pair of a running instance whose public key is key.
func runningKeyPair(sim *ec2sim.Server, region string, key ssh.PublicKey) (string, bool) {
	running := map[string]bool{}
	for _, in := range sim.Instances(region) {
		if in.State == "running" && in.KeyName != "" {
			running[in.KeyName] = true
		}
	}
	for _, kp := range sim.KeyPairs(region) {
		if !running[kp.Name] {
			continue
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(kp.PublicKey))
		if err == nil && bytes.Equal(pub.Marshal(), key.Marshal()) {
			return kp.Name, true
		}
	}
	return "", false
}

func serveSSH(conn net.Conn, config *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range requests {
				switch req.Type {
				case "exec", "shell":
					req.Reply(true, nil)
					fmt.Fprintln(ch.Stderr(), "this test server stands in for an instance's sshd and runs no command")
					ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{127}))
					return
				default:
					req.Reply(req.Type == "env" || req.Type == "pty-req", nil)
				}
			}
		}()
	}
}
