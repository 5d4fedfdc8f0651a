package launch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// checkIPTimeout bounds the request to temporary_security_group_checkip_url.
const checkIPTimeout = 15 * time.Second

// CallerIPFromURL asks a check-ip service for this machine's public address: a GET answered with
// the address as plain text.
func CallerIPFromURL(ctx context.Context, url string) (net.IP, error) {
	ctx, cancel := context.WithTimeout(ctx, checkIPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking %s for this machine's address: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	ip := net.ParseIP(strings.TrimSpace(string(body)))
	if ip == nil {
		return nil, fmt.Errorf("%s answered %q, not an IP address", url, strings.TrimSpace(string(body)))
	}
	return ip, nil
}

// CallerIPToward is the address this machine sends from when it connects to host:port: the
// local address of the route the kernel picks (a UDP "connection" sends no packet). When the
// connection goes through NAT, the instance sees another address; see NATSuspected.
func CallerIPToward(host string, port int) (net.IP, error) {
	conn, err := net.Dial("udp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("finding the route to %s: %w", host, err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).IP, nil
}

// NATSuspected reports whether a connection from local to remote crosses a NAT: a private or
// shared (100.64/10) source reaching a public address is rewritten on the way, so the instance's
// group must let in an address this machine cannot see.
func NATSuspected(local, remote net.IP) bool {
	return isInternal(local) && !isInternal(remote)
}

var sharedAddressSpace = &net.IPNet{IP: net.IPv4(100, 64, 0, 0), Mask: net.CIDRMask(10, 32)}

func isInternal(ip net.IP) bool {
	return ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || sharedAddressSpace.Contains(ip)
}

// HostCIDR is the CIDR of exactly ip: /32, or /128 for IPv6.
func HostCIDR(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String() + "/32"
	}
	return ip.String() + "/128"
}

func isIPv6CIDR(cidr string) bool { return strings.Contains(cidr, ":") }
