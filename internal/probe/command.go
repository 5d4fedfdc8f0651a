//go:generate packer-sdc struct-markdown

package probe

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// defaultExecTimeout bounds one run of a command probe's command.
const defaultExecTimeout = 30 * time.Second

// Command runs a command on the instance (as root, by `sh`, with no input) and checks its exit
// status and output.
//
// ```hcl
//
//	command {
//	  command     = "docker --version"
//	  exit_status = 0
//	  stdout      = ["/^Docker version 2[0-9]\\./"]
//	}
//
// ```
type Command struct {
	// The command line, run by `sh` as root, with no input; several lines are a script. Required.
	Command string `mapstructure:"command" required:"true"`
	// The exit status it must end with. Defaults to `0`.
	ExitStatus *int `mapstructure:"exit_status"`
	// Patterns its standard output must satisfy (see Patterns). The first MiB is read.
	Stdout []string `mapstructure:"stdout"`
	// Patterns its standard error must satisfy.
	Stderr []string `mapstructure:"stderr"`
	// How long one run may take before it is killed (and counts as failed), e.g. `10s`. Defaults
	// to `30s`.
	ExecTimeout string `mapstructure:"exec_timeout"`
	Retry       `mapstructure:",squash"`

	execTimeout time.Duration
}

func (p *Command) Type() string    { return "command" }
func (p *Command) Subject() string { return p.Command }

func (p *Command) Validate() []error {
	errs := p.validateRetry()
	if strings.TrimSpace(p.Command) == "" {
		errs = append(errs, errors.New("command: required"))
	}
	for _, line := range strings.Split(p.Command, "\n") {
		if line == commandDelimiter {
			errs = append(errs, fmt.Errorf("command: a line %s would end it early", commandDelimiter))
		}
	}
	if p.ExitStatus != nil && (*p.ExitStatus < 0 || *p.ExitStatus > 255) {
		errs = append(errs, fmt.Errorf("exit_status: must be from 0 to 255, not %d", *p.ExitStatus))
	}
	errs = append(errs, validatePatterns("stdout", p.Stdout)...)
	errs = append(errs, validatePatterns("stderr", p.Stderr)...)
	p.execTimeout = defaultExecTimeout
	if p.ExecTimeout != "" {
		d, err := time.ParseDuration(p.ExecTimeout)
		if err != nil || d < time.Second {
			errs = append(errs, fmt.Errorf("exec_timeout: %q is not a duration of at least 1s", p.ExecTimeout))
		} else {
			p.execTimeout = d
		}
	}
	return errs
}

// commandDelimiter ends the here-document that carries the command line into the script: the
// command reaches the shell verbatim, with no quoting of its own.
const commandDelimiter = "GOLDEN_COMMAND_EOF"

func (p *Command) Gather() string {
	return fmt.Sprintf(`cat >"$W/cmd" <<'%[4]s'
%[2]s
%[4]s
if command -v timeout >/dev/null 2>&1; then
  timeout -k 5 %[1]d sh "$W/cmd" </dev/null >"$W/out" 2>"$W/err"
else
  sh "$W/cmd" </dev/null >"$W/out" 2>"$W/err"
fi
fact exit $?
head -c %[3]d "$W/out" >"$W/o"; fact_file stdout "$W/o"
head -c %[3]d "$W/err" >"$W/e"; fact_file stderr "$W/e"`, int(p.execTimeout.Seconds()), p.Command, maxContent+1, commandDelimiter)
}

func (p *Command) Judge(f Facts) Verdict {
	status, err := strconv.Atoi(f["exit"])
	if err != nil {
		return Verdict{Message: "the command did not run", Evidence: f["exit"]}
	}
	stdout, stderr := f["stdout"], f["stderr"]
	evidence := fmt.Sprintf("exit status %d", status)
	if stdout != "" {
		evidence += "\nstdout:\n" + excerpt(stdout, 2048)
	}
	if stderr != "" {
		evidence += "\nstderr:\n" + excerpt(stderr, 2048)
	}
	want := 0
	if p.ExitStatus != nil {
		want = *p.ExitStatus
	}
	var wrong []string
	switch {
	case status == 124 && want != 124:
		wrong = append(wrong, fmt.Sprintf("did not finish within %s", p.execTimeout))
	case status == 127 && want != 127:
		wrong = append(wrong, "command not found (exit status 127)")
	case status != want:
		wrong = append(wrong, fmt.Sprintf("exit status %d, want %d", status, want))
	}
	if bad := unmatched(p.Stdout, stdout); len(bad) > 0 {
		wrong = append(wrong, "stdout does not satisfy "+quoteList(bad))
	}
	if bad := unmatched(p.Stderr, stderr); len(bad) > 0 {
		wrong = append(wrong, "stderr does not satisfy "+quoteList(bad))
	}
	if len(wrong) > 0 {
		return Verdict{Message: strings.Join(wrong, "; "), Evidence: evidence}
	}
	return Verdict{Pass: true, Message: fmt.Sprintf("exit status %d", status), Evidence: evidence}
}
