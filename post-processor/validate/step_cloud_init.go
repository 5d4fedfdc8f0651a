package validate

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/launch"
	"github.com/golden-ami/packer-plugin-golden/internal/remote"
)

// cloudInitPoll is how often the wait for cloud-init prints that it is still waiting.
const cloudInitPoll = 10 * time.Second

// stepCloudInit waits for `cloud-init status --wait` on the instance, when the image has
// cloud-init, so that the probes look at the machine as its users get it: packages, users and
// files that cloud-init sets up at the first boot are there. cloud-init ending in error fails
// the validation, with its long status; "degraded" (recoverable errors) is reported and the
// probes run.
type stepCloudInit struct {
	Timeout time.Duration
}

func (s *stepCloudInit) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	runner := &remote.Runner{Comm: state.Get("communicator").(packersdk.Communicator)}
	stdout, _, _, err := runner.Exec(ctx, "command -v cloud-init >/dev/null 2>&1 && echo present")
	if err != nil {
		return haltf(state, "looking for cloud-init: %w", err)
	}
	if strings.TrimSpace(stdout) != "present" {
		ui.Message("The image has no cloud-init; not waiting for it")
		return multistep.ActionContinue
	}

	progress := launch.NewProgress(ui, "cloud-init to finish (cloud-init status --wait)")
	wctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	type answer struct {
		out    string
		status int
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		out, _, status, err := runner.Exec(wctx, "cloud-init status --wait >/dev/null 2>&1; s=$?; cloud-init status --long 2>&1; exit $s")
		done <- answer{out, status, err}
	}()
	tick := time.NewTicker(cloudInitPoll)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			progress.Report("running")
			continue
		case a := <-done:
			switch {
			case ctx.Err() != nil:
				return haltf(state, "waiting for cloud-init: %w", ctx.Err())
			case errors.Is(a.err, context.DeadlineExceeded) || wctx.Err() != nil:
				return haltf(state, "cloud_init_timeout: cloud-init was still running after %s", s.Timeout)
			case a.err != nil:
				return haltf(state, "waiting for cloud-init: %w", a.err)
			}
			status := cloudInitStatus(a.out)
			switch a.status {
			case 0:
				progress.Done(status)
			case 2:
				progress.Done(status + " (with recoverable errors)")
				ui.Message("cloud-init reported recoverable errors:\n" + strings.TrimSpace(a.out))
			default:
				return haltf(state, "cloud-init failed on the booted image (%s, exit status %d):\n%s", status, a.status, strings.TrimSpace(a.out))
			}
			return multistep.ActionContinue
		}
	}
}

func (s *stepCloudInit) Cleanup(multistep.StateBag) {}

// cloudInitStatus is the value of the "status:" line of `cloud-init status --long`.
func cloudInitStatus(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "status:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown status"
}

// haltf records an error, reports it and halts the run, the multistep convention.
func haltf(state multistep.StateBag, format string, args ...any) multistep.StepAction {
	err := fmt.Errorf(format, args...)
	state.Put("error", err)
	state.Get("ui").(packersdk.Ui).Error(err.Error())
	return multistep.ActionHalt
}

// decodeConsole decodes GetConsoleOutput's base64 text.
func decodeConsole(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}
