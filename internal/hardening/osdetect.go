package hardening

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// OSInfo is what the engine knows about the target's operating system, read from /etc/os-release.
type OSInfo struct {
	ID         string // os-release ID: "debian", "ubuntu", "amzn", "rhel"
	VersionID  string // os-release VERSION_ID: "12", "22.04", "2023", "9.4"
	Family     string // "debian" or "rhel"; controls may target a family instead of an ID
	PrettyName string // os-release PRETTY_NAME, for messages
}

func (o OSInfo) String() string {
	if o.PrettyName != "" {
		return o.PrettyName
	}
	return strings.TrimSpace(o.ID + " " + o.VersionID)
}

// Major returns the version up to the first dot for RHEL-like systems ("9.4" -> "9"); Debian and
// Ubuntu versions are returned unchanged, since Ubuntu's minor number names the release.
func (o OSInfo) Major() string {
	if o.Family == "rhel" {
		if i := strings.IndexByte(o.VersionID, '.'); i > 0 {
			return o.VersionID[:i]
		}
	}
	return o.VersionID
}

// supportedOS lists the releases golden-harden accepts, per os-release ID: exactly those the
// end-to-end matrix hardens on a lab machine (test/e2e, which takes its releases from here); the
// next families are planned: named in errors, not accepted. Ubuntu 20.04 (no pam_faillock) and
// Debian 11 are past their vendors' standard support.
var supportedOS = []struct {
	ID       string
	Name     string
	Versions []string
	Planned  bool // named in errors as coming, not accepted yet
}{
	{ID: "debian", Name: "Debian", Versions: []string{"12", "13"}},
	{ID: "ubuntu", Name: "Ubuntu", Versions: []string{"22.04", "24.04", "26.04"}},
	{ID: "amzn", Name: "Amazon Linux", Versions: []string{"2023"}, Planned: true},
	{ID: "rhel", Name: "RHEL", Versions: []string{"9"}, Planned: true},
}

// Release is one release of the supported list: Name is how the docs write it ("Ubuntu 24.04"),
// Lab the lab machine's base image the end-to-end matrix hardens ("ubuntu-24.04").
type Release struct {
	Name, Lab string
}

// Releases lists the supported releases (planned false) or the planned ones, in the list's order.
func Releases(planned bool) []Release {
	var out []Release
	for _, s := range supportedOS {
		if s.Planned != planned {
			continue
		}
		for _, v := range s.Versions {
			out = append(out, Release{Name: s.Name + " " + v, Lab: s.ID + "-" + v})
		}
	}
	return out
}

// SupportedOSText describes the supported and planned releases, for messages and docs.
func SupportedOSText() string {
	var now, planned []string
	for _, s := range supportedOS {
		entry := s.Name + " " + strings.Join(s.Versions, "/")
		if s.Planned {
			planned = append(planned, entry)
		} else {
			now = append(now, entry)
		}
	}
	return fmt.Sprintf("supported: %s; planned: %s", strings.Join(now, ", "), strings.Join(planned, ", "))
}

// ParseOSRelease reads the content of /etc/os-release (shell-style KEY=value lines, values
// optionally quoted) into an OSInfo.
func ParseOSRelease(content string) (OSInfo, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		vars[key] = unquoteOSRelease(value)
	}
	info := OSInfo{ID: strings.ToLower(vars["ID"]), VersionID: vars["VERSION_ID"], PrettyName: vars["PRETTY_NAME"]}
	if info.ID == "" {
		return info, fmt.Errorf("os-release has no ID line")
	}
	info.Family = osFamily(info.ID, strings.Fields(strings.ToLower(vars["ID_LIKE"])))
	return info, nil
}

func unquoteOSRelease(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		if v[0] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
		return v[1 : len(v)-1]
	}
	return v
}

func osFamily(id string, like []string) string {
	for _, candidate := range append([]string{id}, like...) {
		switch candidate {
		case "debian", "ubuntu":
			return "debian"
		case "rhel", "fedora", "centos", "amzn":
			return "rhel"
		}
	}
	return ""
}

// CheckSupported returns a clear error when the catalogue does not support the OS yet, naming
// what is supported.
func CheckSupported(o OSInfo) error {
	family := ""
	for _, s := range supportedOS {
		if s.ID != o.ID {
			continue
		}
		family = s.Name
		for _, v := range s.Versions {
			if v == o.Major() {
				if s.Planned {
					return fmt.Errorf("%s is planned but not supported yet (%s)", o, SupportedOSText())
				}
				return nil
			}
		}
	}
	if family != "" {
		return fmt.Errorf("%s %s is not supported (%s)", family, o.VersionID, SupportedOSText())
	}
	return fmt.Errorf("unsupported operating system %q (%s)", o.String(), SupportedOSText())
}
