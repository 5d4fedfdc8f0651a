package probe

import (
	"fmt"
	"strconv"
	"strings"
)

// compareVersions orders two package versions the way dpkg does ([epoch:]upstream[-revision];
// `~` sorts before everything, even the end of the string). RPM's EVR order agrees with it on the
// versions distributions publish, so one function serves both package managers.
func compareVersions(a, b string) int {
	ea, ua, ra := splitVersion(a)
	eb, ub, rb := splitVersion(b)
	if ea != eb {
		if ea < eb {
			return -1
		}
		return 1
	}
	if c := compareFragment(ua, ub); c != 0 {
		return c
	}
	return compareFragment(ra, rb)
}

func splitVersion(v string) (epoch int, upstream, revision string) {
	if e, rest, ok := strings.Cut(v, ":"); ok {
		if n, err := strconv.Atoi(e); err == nil {
			epoch, v = n, rest
		}
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// order is dpkg's weight of a non-digit character: `~` first, then the end of the string, then
// letters, then everything else.
func order(c byte) int {
	switch {
	case c == '~':
		return -1
	case c >= '0' && c <= '9':
		return 0
	case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		return int(c)
	}
	return int(c) + 256
}

func compareFragment(a, b string) int {
	for a != "" || b != "" {
		// Non-digit prefix, compared by order.
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			ac, bc := 0, 0
			if a != "" {
				ac = order(a[0])
			}
			if b != "" {
				bc = order(b[0])
			}
			if ac != bc {
				if ac < bc {
					return -1
				}
				return 1
			}
			a, b = a[1:], b[1:]
		}
		// Digit run, compared as a number (leading zeros ignored).
		var da, db string
		da, a = digitRun(a)
		db, b = digitRun(b)
		da, db = strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
		if len(da) != len(db) {
			if len(da) < len(db) {
				return -1
			}
			return 1
		}
		if da != db {
			if da < db {
				return -1
			}
			return 1
		}
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// versionConstraint is `[op] version` with op one of = != < <= > >= (default =).
type versionConstraint struct {
	op, version string
}

func parseConstraint(s string) (versionConstraint, error) {
	s = strings.TrimSpace(s)
	for _, op := range []string{">=", "<=", "!=", "=", ">", "<"} {
		if rest, ok := strings.CutPrefix(s, op); ok {
			rest = strings.TrimSpace(rest)
			if rest == "" || strings.ContainsAny(rest, " \t") {
				return versionConstraint{}, fmt.Errorf("%q: want an operator and one version, e.g. \">= 1.2\"", s)
			}
			return versionConstraint{op: op, version: rest}, nil
		}
	}
	if s == "" || strings.ContainsAny(s, " \t") {
		return versionConstraint{}, fmt.Errorf("%q is not a version", s)
	}
	return versionConstraint{op: "=", version: s}, nil
}

func (c versionConstraint) satisfiedBy(v string) bool {
	n := compareVersions(v, c.version)
	switch c.op {
	case "=":
		return n == 0
	case "!=":
		return n != 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	}
	return n >= 0
}
