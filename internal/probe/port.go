//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Port checks that something listens on a port, read from the kernel's socket tables
// (/proc/net/tcp, tcp6, udp, udp6), so no netstat or ss is needed on the image.
//
// ```hcl
//
//	port {
//	  port      = "tcp:22"
//	  addresses = ["0.0.0.0"]
//	}
//	port {
//	  port      = "tcp:23"
//	  listening = false
//	}
//
// ```
type Port struct {
	// `PROTO:NUMBER` with PROTO `tcp` or `udp` (IPv4 or IPv6), `tcp4`, `udp4`, `tcp6` or `udp6`
	// (one family only), e.g. `tcp:22`; a bare number means tcp. Required.
	Port string `mapstructure:"port" required:"true"`
	// Something must listen (`true`, the default), or nothing may (`false`).
	Listening *bool `mapstructure:"listening"`
	// Local addresses it must listen on, each one, e.g. `["0.0.0.0"]` or `["127.0.0.1", "::1"]`.
	// Unset: any address.
	Addresses []string `mapstructure:"addresses"`
	Retry     `mapstructure:",squash"`

	proto  string
	number int
}

func (p *Port) Type() string    { return "port" }
func (p *Port) Subject() string { return p.Port }

// parsePortSpec reads PROTO:NUMBER or NUMBER.
func parsePortSpec(s string) (proto string, number int, err error) {
	proto, num, ok := strings.Cut(s, ":")
	if !ok {
		proto, num = "tcp", s
	}
	switch proto {
	case "tcp", "udp", "tcp4", "udp4", "tcp6", "udp6":
	default:
		return "", 0, fmt.Errorf("%q: protocol must be tcp, udp, tcp4, udp4, tcp6 or udp6", s)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("%q: the port must be a number from 1 to 65535", s)
	}
	return proto, n, nil
}

func (p *Port) Validate() []error {
	errs := p.validateRetry()
	if p.Port == "" {
		return append(errs, errors.New("port: required"))
	}
	proto, n, err := parsePortSpec(p.Port)
	if err != nil {
		errs = append(errs, fmt.Errorf("port: %w", err))
	}
	p.proto, p.number = proto, n
	for _, a := range p.Addresses {
		if net.ParseIP(a) == nil {
			errs = append(errs, fmt.Errorf("addresses: %q is not an IP address", a))
		}
	}
	if len(p.Addresses) > 0 && !boolOr(p.Listening, true) {
		errs = append(errs, errors.New("addresses: set for a port that must not be listening"))
	}
	return errs
}

func (p *Port) Gather() string {
	return fmt.Sprintf(`: >"$W/port"
for t in tcp tcp6 udp udp6; do
  [ -r /proc/net/$t ] && awk -v t=$t -v p=':%04X' 'NR > 1 && substr($2, length($2) - 4) == p { print t, $2, $4 }' /proc/net/$t >>"$W/port"
done
fact_file sockets "$W/port"`, p.number)
}

func (p *Port) tableMatches(table string) bool {
	family6 := strings.HasSuffix(table, "6")
	base := strings.TrimSuffix(table, "6")
	switch p.proto {
	case "tcp", "udp":
		return base == p.proto
	case "tcp4", "udp4":
		return base == p.proto[:3] && !family6
	}
	return base == p.proto[:3] && family6
}

func (p *Port) Judge(f Facts) Verdict {
	var addrs []string
	for _, s := range parseSockets(f["sockets"]) {
		if s.port == p.number && p.tableMatches(s.table) && s.listening() {
			a := s.addr.String()
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
	}
	slices.Sort(addrs)
	evidence := fmt.Sprintf("listening on %s port %d: %s", p.proto, p.number, orNone(strings.Join(addrs, ", ")))
	v := p.judge(addrs)
	v.Evidence = evidence
	return v
}

func (p *Port) judge(addrs []string) Verdict {
	if !boolOr(p.Listening, true) {
		if len(addrs) > 0 {
			return failf("is listening on %s, want nothing listening", strings.Join(addrs, ", "))
		}
		return pass("nothing listening")
	}
	if len(addrs) == 0 {
		return failf("nothing listens on %s port %d", p.proto, p.number)
	}
	var missing []string
	for _, want := range p.Addresses {
		if !slices.Contains(addrs, net.ParseIP(want).String()) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return failf("not listening on %s (only on %s)", strings.Join(missing, ", "), strings.Join(addrs, ", "))
	}
	return pass("listening on " + strings.Join(addrs, ", "))
}
