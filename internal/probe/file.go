//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// maxContent is how much of a file, command output or HTTP body reaches the verdict; more is cut
// and said so.
const maxContent = 1 << 20

// File checks a path: existence, type, mode, owner, group and contents.
//
// ```hcl
//
//	file {
//	  path     = "/etc/ssh/sshd_config.d/50-golden.conf"
//	  mode     = "0600"
//	  owner    = "root"
//	  contents = ["PermitRootLogin no", "!/^PasswordAuthentication yes/"]
//	}
//
// ```
type File struct {
	// An absolute path. Required.
	Path string `mapstructure:"path" required:"true"`
	// The path must exist (`true`, the default) or must not (`false`).
	Exists *bool `mapstructure:"exists"`
	// `file`, `directory` or `symlink` (the path itself is looked at, not what a link points to).
	// Unset: any type.
	Filetype string `mapstructure:"filetype"`
	// The permission bits in octal, exactly, e.g. `0600` or `1777`.
	Mode string `mapstructure:"mode"`
	// The owning user's name.
	Owner string `mapstructure:"owner"`
	// The owning group's name.
	Group string `mapstructure:"group"`
	// Patterns the contents must satisfy (see Patterns): `text` must appear, `/regexp/` must
	// match, `!` negates. The first MiB is read.
	Contents []string `mapstructure:"contents"`
	Retry    `mapstructure:",squash"`
}

var modeSyntax = regexp.MustCompile(`^0?[0-7]{3,4}$`)

func (p *File) Type() string    { return "file" }
func (p *File) Subject() string { return p.Path }

func (p *File) Validate() []error {
	errs := p.validateRetry()
	errs = append(errs, absolutePath("path", p.Path)...)
	switch p.Filetype {
	case "", "file", "directory", "symlink":
	default:
		errs = append(errs, fmt.Errorf("filetype: must be file, directory or symlink, not %q", p.Filetype))
	}
	if p.Mode != "" && !modeSyntax.MatchString(p.Mode) {
		errs = append(errs, fmt.Errorf("mode: %q is not an octal mode like 0644", p.Mode))
	}
	errs = append(errs, validatePatterns("contents", p.Contents)...)
	if !boolOr(p.Exists, true) && (p.Filetype != "" || p.Mode != "" || p.Owner != "" || p.Group != "" || len(p.Contents) > 0) {
		errs = append(errs, errors.New("exists: false leaves nothing else to check; remove filetype, mode, owner, group and contents"))
	}
	return errs
}

func (p *File) Gather() string {
	s := fmt.Sprintf(`f=%s
if [ -e "$f" ] || [ -L "$f" ]; then
  fact stat "$(stat -c '%%F|%%a|%%U|%%G|%%s' "$f" 2>&1)"`, quote(p.Path))
	if len(p.Contents) > 0 {
		s += fmt.Sprintf(`
  if [ -f "$f" ]; then head -c %d "$f" >"$W/content" 2>&1; fact_file content "$W/content"; fi`, maxContent+1)
	}
	return s + `
fi`
}

// sameMode compares octal modes, ignoring leading zeros.
func sameMode(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 8, 32)
	y, err2 := strconv.ParseUint(b, 8, 32)
	return err1 == nil && err2 == nil && x == y
}

func (p *File) Judge(f Facts) Verdict {
	exists := f.Has("stat")
	if !boolOr(p.Exists, true) {
		if exists {
			return Verdict{Message: "exists, want absent", Evidence: f["stat"]}
		}
		return pass("absent")
	}
	if !exists {
		return failf("does not exist")
	}
	st, ok := parseStat(f["stat"])
	if !ok {
		return Verdict{Message: "stat failed", Evidence: f["stat"]}
	}
	evidence := fmt.Sprintf("%s, mode %04s, owner %s:%s", st.kind, st.mode, st.owner, st.group)
	var wrong []string
	if p.Filetype != "" && st.kind != p.Filetype {
		wrong = append(wrong, fmt.Sprintf("is a %s, want %s", st.kind, p.Filetype))
	}
	if p.Mode != "" && !sameMode(st.mode, p.Mode) {
		wrong = append(wrong, fmt.Sprintf("mode %04s, want %04s", st.mode, strings.TrimPrefix(p.Mode, "0")))
	}
	if p.Owner != "" && st.owner != p.Owner {
		wrong = append(wrong, fmt.Sprintf("owner %s, want %s", st.owner, p.Owner))
	}
	if p.Group != "" && st.group != p.Group {
		wrong = append(wrong, fmt.Sprintf("group %s, want %s", st.group, p.Group))
	}
	if len(p.Contents) > 0 {
		content, has := f["content"]
		switch {
		case !has:
			wrong = append(wrong, "contents: not a regular file")
		case len(content) > maxContent:
			wrong = append(wrong, "contents: larger than 1 MiB, not matched")
		default:
			if bad := unmatched(p.Contents, content); len(bad) > 0 {
				wrong = append(wrong, "contents do not satisfy "+quoteList(bad))
				evidence += "\n" + excerpt(content, 2048)
			}
		}
	}
	if len(wrong) > 0 {
		return Verdict{Message: strings.Join(wrong, "; "), Evidence: evidence}
	}
	return Verdict{Pass: true, Message: evidence, Evidence: evidence}
}
