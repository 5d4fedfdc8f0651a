//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// defaultRequestTimeout bounds one HTTP request of a probe.
const defaultRequestTimeout = 10 * time.Second

// HTTP requests a URL from the instance itself (with curl, or Python's standard library on images
// without it), so services bound to localhost can be checked and nothing needs to be open to the
// caller.
//
// ```hcl
//
//	http {
//	  url    = "http://localhost:8080/healthz"
//	  status = 200
//	  body   = ["ok"]
//	}
//
// ```
type HTTP struct {
	// An http or https URL. Required.
	URL string `mapstructure:"url" required:"true"`
	// The status code the answer must have. Defaults to `200`. Redirects are followed.
	Status *int `mapstructure:"status"`
	// Patterns the body must satisfy (see Patterns). The first MiB is read.
	Body []string `mapstructure:"body"`
	// Accept any TLS certificate. Defaults to `false`.
	AllowInsecure bool `mapstructure:"allow_insecure"`
	// How long one request may take, e.g. `5s`. Defaults to `10s`.
	RequestTimeout string `mapstructure:"request_timeout"`
	Retry          `mapstructure:",squash"`

	requestTimeout time.Duration
}

func (p *HTTP) Type() string    { return "http" }
func (p *HTTP) Subject() string { return p.URL }

func (p *HTTP) Validate() []error {
	errs := p.validateRetry()
	if p.URL == "" {
		errs = append(errs, errors.New("url: required"))
	} else if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url: %q is not an http or https URL", p.URL))
	}
	if p.Status != nil && (*p.Status < 100 || *p.Status > 599) {
		errs = append(errs, fmt.Errorf("status: %d is not an HTTP status code", *p.Status))
	}
	errs = append(errs, validatePatterns("body", p.Body)...)
	p.requestTimeout = defaultRequestTimeout
	if p.RequestTimeout != "" {
		d, err := time.ParseDuration(p.RequestTimeout)
		if err != nil || d < time.Second {
			errs = append(errs, fmt.Errorf("request_timeout: %q is not a duration of at least 1s", p.RequestTimeout))
		} else {
			p.requestTimeout = d
		}
	}
	return errs
}

func (p *HTTP) needsHTTP() bool { return true }

func (p *HTTP) Gather() string {
	return fmt.Sprintf(`: >"$W/body"
fact status "$(http_request GET %s %d %t "$W/body")"
head -c %d "$W/body" >"$W/b"; fact_file body "$W/b"`, quote(p.URL), int(p.requestTimeout.Seconds()), p.AllowInsecure, maxContent+1)
}

func (p *HTTP) Judge(f Facts) Verdict {
	answer := f["status"]
	if strings.HasPrefix(answer, "error:") || answer == "" {
		return Verdict{Message: "no answer: " + strings.TrimSpace(strings.TrimPrefix(answer, "error:")), Evidence: answer}
	}
	status, err := strconv.Atoi(answer)
	if err != nil {
		return Verdict{Message: "unreadable status " + answer, Evidence: answer}
	}
	body := f["body"]
	evidence := fmt.Sprintf("status %d\n%s", status, excerpt(body, 2048))
	want := 200
	if p.Status != nil {
		want = *p.Status
	}
	var wrong []string
	if status != want {
		wrong = append(wrong, fmt.Sprintf("status %d, want %d", status, want))
	}
	if bad := unmatched(p.Body, body); len(bad) > 0 {
		wrong = append(wrong, "body does not satisfy "+quoteList(bad))
	}
	if len(wrong) > 0 {
		return Verdict{Message: strings.Join(wrong, "; "), Evidence: evidence}
	}
	return Verdict{Pass: true, Message: fmt.Sprintf("status %d", status), Evidence: evidence}
}
