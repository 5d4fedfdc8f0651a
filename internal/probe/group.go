//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"strings"
)

// Group checks a local group, through the name service (getent).
//
// ```hcl
//
//	group {
//	  name = "docker"
//	}
//
// ```
type Group struct {
	// The group name. Required.
	Name string `mapstructure:"name" required:"true"`
	// The group must exist (`true`, the default) or must not (`false`).
	Exists *bool `mapstructure:"exists"`
	// The numeric group id.
	GID   *int `mapstructure:"gid"`
	Retry `mapstructure:",squash"`
}

func (p *Group) Type() string    { return "group" }
func (p *Group) Subject() string { return p.Name }

func (p *Group) Validate() []error {
	errs := p.validateRetry()
	errs = append(errs, required("name", p.Name)...)
	if !boolOr(p.Exists, true) && p.GID != nil {
		errs = append(errs, errors.New("exists: false leaves nothing else to check; remove gid"))
	}
	return errs
}

func (p *Group) Gather() string {
	return fmt.Sprintf(`if e=$(getent group %s); then fact group "$e"; fi`, quote(p.Name))
}

func (p *Group) Judge(f Facts) Verdict {
	entry, ok := f["group"]
	if !boolOr(p.Exists, true) {
		if ok {
			return Verdict{Message: "exists, want absent", Evidence: entry}
		}
		return pass("no such group")
	}
	if !ok {
		return failf("no such group")
	}
	fields := strings.Split(entry, ":")
	if len(fields) < 3 {
		return Verdict{Message: "unreadable group entry", Evidence: entry}
	}
	if p.GID != nil && fields[2] != fmt.Sprint(*p.GID) {
		return Verdict{Message: fmt.Sprintf("gid %s, want %d", fields[2], *p.GID), Evidence: entry}
	}
	return Verdict{Pass: true, Message: "gid " + fields[2], Evidence: entry}
}
