//go:generate packer-sdc struct-markdown

package probe

import (
	"fmt"
	"strconv"
)

// commLength is how much of a process name the kernel keeps (TASK_COMM_LEN - 1).
const commLength = 15

// Process checks that a process runs, by its name (the kernel's comm, as `ps -e` shows it).
//
// ```hcl
//
//	process {
//	  name = "sshd"
//	}
//
// ```
type Process struct {
	// The process name; the kernel keeps only its first 15 characters, and so does the check.
	// Required.
	Name string `mapstructure:"name" required:"true"`
	// At least one such process must run (`true`, the default), or none (`false`).
	Running *bool `mapstructure:"running"`
	Retry   `mapstructure:",squash"`
}

func (p *Process) Type() string    { return "process" }
func (p *Process) Subject() string { return p.Name }

func (p *Process) Validate() []error {
	errs := p.validateRetry()
	errs = append(errs, required("name", p.Name)...)
	return errs
}

func (p *Process) comm() string {
	if len(p.Name) > commLength {
		return p.Name[:commLength]
	}
	return p.Name
}

func (p *Process) Gather() string {
	// One cat for every process: processes that end meanwhile only print errors, dropped.
	return fmt.Sprintf(`fact count "$(cat /proc/[0-9]*/comm 2>/dev/null | grep -cxF -- %s)"`, quote(p.comm()))
}

func (p *Process) Judge(f Facts) Verdict {
	n, err := strconv.Atoi(f["count"])
	if err != nil {
		return Verdict{Message: "could not list the processes", Evidence: f["count"]}
	}
	v := Verdict{Evidence: fmt.Sprintf("%d processes named %s", n, p.comm())}
	running := boolOr(p.Running, true)
	switch {
	case running && n == 0:
		v.Message = "no such process runs"
	case !running && n > 0:
		v.Message = fmt.Sprintf("%d such processes run, want none", n)
	default:
		v.Pass, v.Message = true, v.Evidence
	}
	return v
}
