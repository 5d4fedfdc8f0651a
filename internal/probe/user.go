//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// User checks a local account, through the name service (getent), so LDAP or SSSD users count.
//
// ```hcl
//
//	user {
//	  name   = "admin"
//	  groups = ["sudo"]
//	  shell  = "/bin/bash"
//	}
//
// ```
type User struct {
	// The user name. Required.
	Name string `mapstructure:"name" required:"true"`
	// The user must exist (`true`, the default) or must not (`false`).
	Exists *bool `mapstructure:"exists"`
	// The numeric user id.
	UID *int `mapstructure:"uid"`
	// The numeric primary group id.
	GID *int `mapstructure:"gid"`
	// Groups the user must be a member of, each one (primary or supplementary).
	Groups []string `mapstructure:"groups"`
	// The home directory.
	Home string `mapstructure:"home"`
	// The login shell.
	Shell string `mapstructure:"shell"`
	Retry `mapstructure:",squash"`
}

func (p *User) Type() string    { return "user" }
func (p *User) Subject() string { return p.Name }

func (p *User) Validate() []error {
	errs := p.validateRetry()
	errs = append(errs, required("name", p.Name)...)
	if !boolOr(p.Exists, true) && (p.UID != nil || p.GID != nil || len(p.Groups) > 0 || p.Home != "" || p.Shell != "") {
		errs = append(errs, errors.New("exists: false leaves nothing else to check; remove uid, gid, groups, home and shell"))
	}
	return errs
}

func (p *User) Gather() string {
	return fmt.Sprintf(`u=%s
if e=$(getent passwd "$u"); then
  fact passwd "$e"
  fact groups "$(id -Gn "$u" 2>/dev/null)"
fi`, quote(p.Name))
}

func (p *User) Judge(f Facts) Verdict {
	entry, ok := f["passwd"]
	if !boolOr(p.Exists, true) {
		if ok {
			return Verdict{Message: "exists, want absent", Evidence: entry}
		}
		return pass("no such user")
	}
	if !ok {
		return failf("no such user")
	}
	fields := strings.Split(entry, ":")
	if len(fields) < 7 {
		return Verdict{Message: "unreadable passwd entry", Evidence: entry}
	}
	groups := strings.Fields(f["groups"])
	evidence := fmt.Sprintf("%s; groups: %s", entry, strings.Join(groups, " "))
	var wrong []string
	if p.UID != nil && fields[2] != fmt.Sprint(*p.UID) {
		wrong = append(wrong, fmt.Sprintf("uid %s, want %d", fields[2], *p.UID))
	}
	if p.GID != nil && fields[3] != fmt.Sprint(*p.GID) {
		wrong = append(wrong, fmt.Sprintf("gid %s, want %d", fields[3], *p.GID))
	}
	if p.Home != "" && fields[5] != p.Home {
		wrong = append(wrong, fmt.Sprintf("home %s, want %s", fields[5], p.Home))
	}
	if p.Shell != "" && fields[6] != p.Shell {
		wrong = append(wrong, fmt.Sprintf("shell %s, want %s", fields[6], p.Shell))
	}
	var missing []string
	for _, g := range p.Groups {
		if !slices.Contains(groups, g) {
			missing = append(missing, g)
		}
	}
	if len(missing) > 0 {
		wrong = append(wrong, "not in "+strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		return Verdict{Message: strings.Join(wrong, "; "), Evidence: evidence}
	}
	return Verdict{Pass: true, Message: "uid " + fields[2], Evidence: evidence}
}
