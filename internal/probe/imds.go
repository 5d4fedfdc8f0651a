package probe

import (
	"fmt"
	"strings"
	"time"
)

// DefaultIMDSEndpoint is where instances reach their metadata service over IPv4.
const DefaultIMDSEndpoint = "http://169.254.169.254"

// IMDSv2 is the `imdsv2_enforced` built-in: from the instance, a request to the metadata service
// without a session token must be refused, so that nothing on the image (nor an SSRF in one of its
// services) can read instance credentials with a plain GET. A metadata service that answers
// nothing at all (its endpoint turned off) refuses token-less requests too.
type IMDSv2 struct {
	// Endpoint is the metadata service's base URL; DefaultIMDSEndpoint when empty
	// (`http://[fd00:ec2::254]` on IPv6-only subnets).
	Endpoint string
}

func (p *IMDSv2) Type() string { return "imdsv2_enforced" }
func (p *IMDSv2) Subject() string {
	return p.endpoint()
}
func (p *IMDSv2) endpoint() string {
	if p.Endpoint == "" {
		return DefaultIMDSEndpoint
	}
	return strings.TrimSuffix(p.Endpoint, "/")
}
func (p *IMDSv2) Validate() []error {
	if !strings.HasPrefix(p.Endpoint, "http://") && p.Endpoint != "" {
		return []error{fmt.Errorf("endpoint: %q is not an http:// URL", p.Endpoint)}
	}
	return nil
}
func (p *IMDSv2) needsHTTP() bool { return true }

// Deadline is the run's default.
func (p *IMDSv2) Deadline() time.Duration { return 0 }

func (p *IMDSv2) Gather() string {
	return fmt.Sprintf(`e=%s
fact tokenless "$(http_request GET "$e/latest/meta-data/" 3 false "$W/imds")"
fact token "$(http_request PUT "$e/latest/api/token" 3 false "$W/imds" 'X-aws-ec2-metadata-token-ttl-seconds: 60')"`, quote(p.endpoint()))
}

func (p *IMDSv2) Judge(f Facts) Verdict {
	tokenless, token := f["tokenless"], f["token"]
	evidence := fmt.Sprintf("GET /latest/meta-data/ without a token: %s; PUT /latest/api/token: %s", tokenless, token)
	v := Verdict{Evidence: evidence}
	tokenlessFailed := strings.HasPrefix(tokenless, "error:") || tokenless == ""
	tokenFailed := strings.HasPrefix(token, "error:") || token == ""
	switch {
	case tokenless == "200":
		v.Message = "the metadata service answers requests without a token (IMDSv1 is allowed)"
	case tokenlessFailed && tokenFailed:
		v.Pass, v.Message = true, "the metadata service does not answer at all (endpoint turned off)"
	case tokenlessFailed:
		v.Message = "token-less request got no answer while a token request did: " + tokenless
	case strings.HasPrefix(tokenless, "4"):
		v.Pass, v.Message = true, "token-less request refused with status "+tokenless
	default:
		v.Message = "unexpected answer to a token-less request: status " + tokenless
	}
	return v
}
