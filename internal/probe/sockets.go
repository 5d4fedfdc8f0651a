package probe

import (
	"encoding/hex"
	"net"
	"strconv"
	"strings"
)

// socket is one row of /proc/net/{tcp,udp}{,6} on the probe's port.
type socket struct {
	table string // tcp, tcp6, udp, udp6
	addr  net.IP
	port  int
	state string
}

// listening reports whether the socket accepts traffic: LISTEN (0A) for TCP; for UDP, an
// unconnected socket (07).
func (s socket) listening() bool {
	if strings.HasPrefix(s.table, "tcp") {
		return s.state == "0A"
	}
	return s.state == "07"
}

// parseSockets reads the rows the shell printed: "TABLE HEXADDR:HEXPORT STATE".
func parseSockets(text string) []socket {
	var out []socket
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		hexAddr, hexPort, _ := strings.Cut(f[1], ":")
		ip := decodeProcAddr(hexAddr)
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if ip == nil || err != nil {
			continue
		}
		out = append(out, socket{table: f[0], addr: ip, port: int(port), state: f[2]})
	}
	return out
}

// decodeProcAddr reads the kernel's hex address: the IPv4 address or each 32-bit word of the
// IPv6 address in host (little-endian) byte order.
func decodeProcAddr(h string) net.IP {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil
	}
	ip := make(net.IP, len(b))
	for w := 0; w < len(b); w += 4 {
		ip[w], ip[w+1], ip[w+2], ip[w+3] = b[w+3], b[w+2], b[w+1], b[w]
	}
	return ip
}
