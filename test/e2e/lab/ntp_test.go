package lab

import (
	"net"
	"testing"
	"time"
)

// TestNTPServerAnswersClients asks the server as an NTP client does (version 4, mode 3, a random
// transmit timestamp) and checks what chronyd checks in an answer: server mode, synchronised,
// a stratum below 16, the request's transmit timestamp echoed as the origin, and times from the
// host's clock. Anything but a client request gets no answer.
func TestNTPServerAnswersClients(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := ServeNTP(conn)
	defer s.Close()
	c, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	req := make([]byte, 48)
	req[0] = 4<<3 | 3
	req[2] = 6
	copy(req[40:], []byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04})
	before := time.Now()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, 128)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(resp)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	resp = resp[:n]
	if n != 48 {
		t.Fatalf("answer of %d bytes", n)
	}
	if leap, vn, mode := resp[0]>>6, resp[0]>>3&7, resp[0]&7; leap != 0 || vn != 4 || mode != 4 {
		t.Errorf("leap %d, version %d, mode %d; want 0, 4, 4", leap, vn, mode)
	}
	if resp[1] == 0 || resp[1] >= 16 {
		t.Errorf("stratum %d", resp[1])
	}
	if string(resp[24:32]) != string(req[40:48]) {
		t.Errorf("origin %x, want the request's transmit timestamp %x", resp[24:32], req[40:48])
	}
	for _, f := range []struct {
		name string
		at   int
	}{{"reference", 16}, {"receive", 32}, {"transmit", 40}} {
		got := ntpTime(resp[f.at:])
		if got.Before(before.Add(-time.Millisecond)) || got.After(after.Add(time.Millisecond)) {
			t.Errorf("%s time %s, not between %s and %s", f.name, got, before, after)
		}
	}
	if got := s.Answered(); got != 1 {
		t.Errorf("Answered() = %d, want 1", got)
	}

	// A server-mode packet (as from another server) is not answered.
	req[0] = 4<<3 | 4
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.Read(resp[:cap(resp)]); err == nil {
		t.Errorf("a mode 4 packet got an answer of %d bytes", n)
	}
}
