//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sysctl checks a kernel parameter's live value (goss calls it kernel-param).
//
// ```hcl
//
//	sysctl {
//	  name  = "net.ipv4.ip_forward"
//	  value = "0"
//	}
//
// ```
type Sysctl struct {
	// The parameter, dotted (`net.ipv4.conf.all.rp_filter`) or as a path below /proc/sys. Required.
	Name string `mapstructure:"name" required:"true"`
	// The value it must have. Runs of spaces and tabs compare equal, so `4096 131072 6291456`
	// matches what the kernel prints with tabs. Required.
	Value string `mapstructure:"value" required:"true"`
	Retry `mapstructure:",squash"`
}

var sysctlNameSyntax = regexp.MustCompile(`^[a-zA-Z0-9_*-]+([./][a-zA-Z0-9_:*-]+)*$`)

func (p *Sysctl) Type() string    { return "sysctl" }
func (p *Sysctl) Subject() string { return p.Name }

func (p *Sysctl) Validate() []error {
	errs := p.validateRetry()
	switch {
	case p.Name == "":
		errs = append(errs, errors.New("name: required"))
	case !sysctlNameSyntax.MatchString(p.Name) || strings.Contains(p.Name, "*"):
		errs = append(errs, fmt.Errorf("name: %q is not a kernel parameter name", p.Name))
	}
	if p.Value == "" {
		errs = append(errs, errors.New("value: required"))
	}
	return errs
}

func (p *Sysctl) Gather() string {
	// Dots become slashes below /proc/sys; reading the file needs no sysctl binary.
	return fmt.Sprintf(`k=$(printf %%s %s | tr . /)
if [ -r "/proc/sys/$k" ]; then fact value "$(tr '\n' ' ' <"/proc/sys/$k")"; fi`, quote(p.Name))
}

func (p *Sysctl) Judge(f Facts) Verdict {
	got, ok := f["value"]
	if !ok {
		return failf("no such kernel parameter (or not readable)")
	}
	norm := strings.Join(strings.Fields(got), " ")
	v := Verdict{Evidence: fmt.Sprintf("%s = %s", p.Name, norm)}
	if norm != strings.Join(strings.Fields(p.Value), " ") {
		v.Message = fmt.Sprintf("is %s, want %s", norm, p.Value)
		return v
	}
	v.Pass, v.Message = true, "= "+norm
	return v
}
