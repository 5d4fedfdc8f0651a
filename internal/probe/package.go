//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"strings"
)

// Package checks an installed package, with dpkg on Debian and Ubuntu, rpm elsewhere.
//
// ```hcl
//
//	package {
//	  name    = "openssh-server"
//	  version = ">= 1:9.2"
//	}
//	package {
//	  name      = "telnetd"
//	  installed = false
//	}
//
// ```
type Package struct {
	// The package name. Required.
	Name string `mapstructure:"name" required:"true"`
	// The package must be installed (`true`, the default) or absent (`false`).
	Installed *bool `mapstructure:"installed"`
	// A version the installed package must have: exact (`1:9.2p1-2+deb12u3`) or a comparison
	// (`>= 9.2`, `< 10`, `!= 1.0-1`), compared the way dpkg orders versions. With several
	// versions installed (multiarch, kernels), one satisfying it is enough.
	Version string `mapstructure:"version"`
	Retry   `mapstructure:",squash"`

	constraint *versionConstraint
}

func (p *Package) Type() string    { return "package" }
func (p *Package) Subject() string { return p.Name }

func (p *Package) Validate() []error {
	errs := p.validateRetry()
	errs = append(errs, required("name", p.Name)...)
	if p.Version != "" {
		c, err := parseConstraint(p.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("version: %w", err))
		} else {
			p.constraint = &c
		}
		if !boolOr(p.Installed, true) {
			errs = append(errs, errors.New("version: set for a package that must not be installed"))
		}
	}
	return errs
}

func (p *Package) Gather() string {
	return fmt.Sprintf(`n=%s
if command -v dpkg-query >/dev/null 2>&1; then
  fact manager dpkg
  fact versions "$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$n" 2>/dev/null | awk '$1 == "ii" { printf "%%s ", $2 }')"
elif command -v rpm >/dev/null 2>&1; then
  fact manager rpm
  fact versions "$(rpm -q --qf '%%{EPOCHNUM}:%%{VERSION}-%%{RELEASE} ' "$n" 2>/dev/null | grep -v 'is not installed')"
else
  fact manager none
fi`, quote(p.Name))
}

func (p *Package) Judge(f Facts) Verdict {
	versions := strings.Fields(f["versions"])
	v := p.judge(f["manager"], versions)
	if len(versions) > 0 {
		v.Evidence = fmt.Sprintf("%s: installed %s", f["manager"], strings.Join(versions, ", "))
	} else {
		v.Evidence = fmt.Sprintf("%s: not installed", f["manager"])
	}
	return v
}

func (p *Package) judge(manager string, versions []string) Verdict {
	if manager == "none" || manager == "" {
		return failf("neither dpkg nor rpm is on the instance")
	}
	want := boolOr(p.Installed, true)
	if !want {
		if len(versions) > 0 {
			return failf("is installed (%s), want absent", strings.Join(versions, ", "))
		}
		return pass("not installed")
	}
	if len(versions) == 0 {
		return failf("is not installed")
	}
	if p.constraint != nil {
		for _, v := range versions {
			// rpm reports epoch 0 explicitly; a constraint without an epoch means epoch 0 too.
			if p.constraint.satisfiedBy(strings.TrimPrefix(v, "0:")) {
				return pass("installed " + v)
			}
		}
		return failf("installed %s, want %s", strings.Join(versions, ", "), p.Version)
	}
	return pass("installed " + strings.Join(versions, ", "))
}
