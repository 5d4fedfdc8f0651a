package lab

import (
	"encoding/binary"
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// An NTPServer answers NTP client requests (RFC 5905, mode 3) with the host's clock, as a
// stratum 1 server: what the VM suite puts where EC2 has the Amazon Time Sync Service
// (169.254.169.123), so that chronyd in the VM, with golden-harden's default sources, has a
// server to set its clock from without leaving the VM's network namespace.
type NTPServer struct {
	conn     net.PacketConn
	answered atomic.Int64
}

// ntpEpochOffset is the seconds from 1900-01-01 (NTP's era 0) to 1970-01-01.
const ntpEpochOffset = 2208988800

// ServeNTP answers on conn until conn is closed.
func ServeNTP(conn net.PacketConn) *NTPServer {
	s := &NTPServer{conn: conn}
	go s.serve()
	return s
}

// Answered is how many requests the server has answered.
func (s *NTPServer) Answered() int64 { return s.answered.Load() }

// Close stops the server.
func (s *NTPServer) Close() error { return s.conn.Close() }

func (s *NTPServer) serve() {
	buf := make([]byte, 1024)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		received := time.Now()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		reply, ok := ntpReply(buf[:n], received, time.Now())
		if !ok {
			continue
		}
		if _, err := s.conn.WriteTo(reply, from); err == nil {
			s.answered.Add(1)
		}
	}
}

// ntpReply is the server's answer (mode 4) to a client request (mode 3) received at received,
// sent at transmit; false for anything that is not a client request.
func ntpReply(req []byte, received, transmit time.Time) ([]byte, bool) {
	if len(req) < 48 || req[0]&0x7 != 3 {
		return nil, false
	}
	version := req[0] >> 3 & 0x7
	r := make([]byte, 48)
	r[0] = version<<3 | 4 // leap indicator 0 (synchronised), server mode
	r[1] = 1              // stratum 1: a reference clock of its own
	r[2] = req[2]         // the client's poll interval
	r[3] = 0xec           // precision 2^-20 s
	// Root delay 0; root dispersion 1/65536 s x 16.
	binary.BigEndian.PutUint32(r[8:], 16)
	copy(r[12:16], "HOST")
	putNTPTime(r[16:], received)
	copy(r[24:32], req[40:48]) // origin: the client's transmit timestamp, as it sent it
	putNTPTime(r[32:], received)
	putNTPTime(r[40:], transmit)
	return r, true
}

func putNTPTime(b []byte, t time.Time) {
	binary.BigEndian.PutUint32(b, uint32(t.Unix()+ntpEpochOffset))
	binary.BigEndian.PutUint32(b[4:], uint32((uint64(t.Nanosecond())<<32)/1e9))
}

// ntpTime reads an NTP timestamp (era 0).
func ntpTime(b []byte) time.Time {
	sec := int64(binary.BigEndian.Uint32(b)) - ntpEpochOffset
	nsec := (int64(binary.BigEndian.Uint32(b[4:])) * 1e9) >> 32
	return time.Unix(sec, nsec)
}
