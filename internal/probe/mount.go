//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Mount checks a mount point and its options, read from /proc/self/mounts.
//
// ```hcl
//
//	mount {
//	  path    = "/tmp"
//	  options = ["nodev", "nosuid", "noexec"]
//	}
//
// ```
type Mount struct {
	// The mount point, absolute. Required.
	Path string `mapstructure:"path" required:"true"`
	// Something must be mounted there (`true`, the default) or nothing (`false`).
	Exists *bool `mapstructure:"exists"`
	// Options it must be mounted with, each one, e.g. `["nodev", "nosuid"]`; `key=value`
	// options compare whole.
	Options []string `mapstructure:"options"`
	// The filesystem type, e.g. `tmpfs` or `ext4`.
	Filesystem string `mapstructure:"filesystem"`
	// The mounted device or source, e.g. `/dev/nvme0n1p1` or `tmpfs`.
	Source string `mapstructure:"source"`
	Retry  `mapstructure:",squash"`
}

func (p *Mount) Type() string    { return "mount" }
func (p *Mount) Subject() string { return p.Path }

func (p *Mount) Validate() []error {
	errs := p.validateRetry()
	errs = append(errs, absolutePath("path", p.Path)...)
	if !boolOr(p.Exists, true) && (len(p.Options) > 0 || p.Filesystem != "" || p.Source != "") {
		errs = append(errs, errors.New("exists: false leaves nothing else to check; remove options, filesystem and source"))
	}
	return errs
}

// mountsEscape writes a path the way /proc/self/mounts does (space, tab, newline and backslash
// as octal escapes).
func mountsEscape(p string) string {
	return strings.NewReplacer(`\`, `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`).Replace(path.Clean(p))
}

func (p *Mount) Gather() string {
	// The last entry wins: a later mount on the same point hides the earlier one. The path reaches
	// awk through the environment, which (unlike -v) applies no escape processing.
	return fmt.Sprintf(`fact mount "$(m=%s awk '$2 == ENVIRON["m"] { line = $1 " " $3 " " $4 } END { print line }' /proc/self/mounts)"`,
		quote(mountsEscape(p.Path)))
}

func (p *Mount) Judge(f Facts) Verdict {
	fields := strings.Fields(f["mount"])
	if !boolOr(p.Exists, true) {
		if len(fields) == 3 {
			return Verdict{Message: "is a mount point, want none", Evidence: f["mount"]}
		}
		return pass("not a mount point")
	}
	if len(fields) != 3 {
		return failf("is not a mount point")
	}
	source, fstype, opts := fields[0], fields[1], strings.Split(fields[2], ",")
	evidence := fmt.Sprintf("%s on %s type %s (%s)", source, p.Path, fstype, fields[2])
	var wrong []string
	var missing []string
	for _, o := range p.Options {
		if !slices.Contains(opts, o) {
			missing = append(missing, o)
		}
	}
	if len(missing) > 0 {
		wrong = append(wrong, "lacks "+strings.Join(missing, ","))
	}
	if p.Filesystem != "" && fstype != p.Filesystem {
		wrong = append(wrong, fmt.Sprintf("type %s, want %s", fstype, p.Filesystem))
	}
	if p.Source != "" && source != p.Source {
		wrong = append(wrong, fmt.Sprintf("source %s, want %s", source, p.Source))
	}
	if len(wrong) > 0 {
		return Verdict{Message: strings.Join(wrong, "; "), Evidence: evidence}
	}
	return Verdict{Pass: true, Message: evidence, Evidence: evidence}
}
