package probe

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/remote"
)

// Defaults of a run.
const (
	DefaultTimeout  = 2 * time.Minute
	DefaultInterval = 2 * time.Second
)

// Result is a probe's final outcome: the verdict of its last attempt.
type Result struct {
	Probe    Probe
	Pass     bool
	Message  string
	Evidence string
	Attempts int
	// Duration runs from the start of the checks to the attempt whose verdict stood.
	Duration time.Duration
}

// RunOptions tune a run.
type RunOptions struct {
	// Timeout is the deadline of probes that set none. Defaults to DefaultTimeout.
	Timeout time.Duration
	// Interval separates the attempts of a failing probe. Defaults to DefaultInterval.
	Interval time.Duration
	// ScriptPath is where the script is uploaded; it removes its work directory when it ends and
	// Run removes the script. Defaults to /tmp/golden-validate-<time>.sh.
	ScriptPath string
	// OnRetry is told about each failed attempt that will be retried (for progress lines).
	OnRetry func(p Probe, attempt int, v Verdict, left time.Duration)
	// OnResult is told each final result as soon as it is known.
	OnResult func(Result)
	// OnOutput receives the script's lines that are not results (error messages).
	OnOutput func(stderr bool, line string)
	// Now is the clock (tests); defaults to time.Now.
	Now func() time.Time
}

// record is one result line of the script.
type record struct {
	probe int // -1 for "ready"
	key   string
	value string
	end   bool
}

// parseRecord reads "N KEY =VALUE", "N KEY ~BASE64", "N end" or "- ready".
func parseRecord(payload string) (record, error) {
	idx, rest, _ := strings.Cut(payload, " ")
	if idx == "-" {
		if rest == "ready" {
			return record{probe: -1}, nil
		}
		return record{}, fmt.Errorf("unexpected line %q", payload)
	}
	n, err := strconv.Atoi(idx)
	if err != nil || n < 0 {
		return record{}, fmt.Errorf("unexpected line %q", payload)
	}
	if rest == "end" {
		return record{probe: n, end: true}, nil
	}
	key, value, ok := strings.Cut(rest, " ")
	if !ok || key == "" || value == "" {
		return record{}, fmt.Errorf("unexpected line %q", payload)
	}
	switch value[0] {
	case '=':
		return record{probe: n, key: key, value: value[1:]}, nil
	case '~':
		b, err := base64.StdEncoding.DecodeString(value[1:])
		if err != nil {
			return record{}, fmt.Errorf("fact %s of probe %d: %w", key, n, err)
		}
		return record{probe: n, key: key, value: string(b)}, nil
	}
	return record{}, fmt.Errorf("unexpected line %q", payload)
}

// Run uploads the script of every probe, runs it once as root, and asks it for the failing probes
// again every Interval until each has passed or reached its deadline. Verdicts are decided here,
// from the facts the script prints. It returns one result per probe, in order; an error means the
// run itself broke (upload, connection, the script dying), not that probes failed.
func Run(ctx context.Context, runner *remote.Runner, probes []Probe, opts RunOptions) ([]Result, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ScriptPath == "" {
		opts.ScriptPath = fmt.Sprintf("/tmp/golden-validate-%d.sh", time.Now().UnixNano())
	}
	results := make([]Result, len(probes))
	for i, p := range probes {
		results[i].Probe = p
	}
	if len(probes) == 0 {
		return results, nil
	}

	requests, requestWriter := io.Pipe()
	defer requestWriter.Close()
	records := make(chan record, 256)
	recordErrs := make(chan error, 1)
	// stop releases the output reader once Run no longer reads records.
	stop := make(chan struct{})
	var stopOnce sync.Once
	release := func() { stopOnce.Do(func() { close(stop) }) }
	defer release()
	type ended struct {
		status int
		err    error
	}
	done := make(chan ended, 1)
	script := remote.Script{
		Path:    opts.ScriptPath,
		Content: Script(probes),
		Root:    true,
		Marker:  Marker,
		Stdin:   requests,
		OnRecord: func(payload []byte) error {
			rec, err := parseRecord(string(payload))
			if err != nil {
				select {
				case recordErrs <- err:
				default:
				}
				return err
			}
			select {
			case records <- rec:
			case <-stop:
			}
			return nil
		},
		OnOutput: opts.OnOutput,
	}
	go func() {
		status, err := runner.RunScript(ctx, script)
		done <- ended{status, err}
	}()

	started := opts.Now()
	deadline := func(i int) time.Time {
		d := probes[i].Deadline()
		if d <= 0 {
			d = opts.Timeout
		}
		return started.Add(d)
	}
	pending := make([]int, len(probes))
	for i := range probes {
		pending[i] = i
	}
	facts := make([]Facts, len(probes))
	fail := func(err error) ([]Result, error) {
		requestWriter.CloseWithError(err)
		release()
		e := <-done
		if e.err != nil {
			return results, errors.Join(err, e.err)
		}
		return results, err
	}

	for len(pending) > 0 {
		req := make([]string, len(pending))
		for i, n := range pending {
			req[i] = strconv.Itoa(n)
			facts[n] = Facts{}
		}
		if _, err := io.WriteString(requestWriter, strings.Join(req, " ")+"\n"); err != nil {
			return fail(fmt.Errorf("asking the probe script: %w", err))
		}
		var failing []int
	collect:
		for {
			select {
			case rec := <-records:
				switch {
				case rec.probe == -1:
					break collect
				case rec.probe >= len(probes):
					return fail(fmt.Errorf("the probe script answered for probe %d, of %d", rec.probe, len(probes)))
				case rec.end:
					i := rec.probe
					v := probes[i].Judge(facts[i])
					now := opts.Now()
					results[i].Attempts++
					results[i].Pass, results[i].Message, results[i].Evidence = v.Pass, v.Message, v.Evidence
					results[i].Duration = now.Sub(started)
					if v.Pass || !now.Add(opts.Interval).Before(deadline(i)) {
						if opts.OnResult != nil {
							opts.OnResult(results[i])
						}
						continue
					}
					failing = append(failing, i)
					if opts.OnRetry != nil {
						opts.OnRetry(probes[i], results[i].Attempts, v, deadline(i).Sub(now))
					}
				default:
					facts[rec.probe][rec.key] = rec.value
				}
			case err := <-recordErrs:
				return fail(fmt.Errorf("reading the probe script's results: %w", err))
			case e := <-done:
				if e.err != nil {
					return results, fmt.Errorf("running the probe script: %w", e.err)
				}
				return results, fmt.Errorf("the probe script ended (exit status %d) before answering", e.status)
			case <-ctx.Done():
				return fail(ctx.Err())
			}
		}
		pending = failing
		if len(pending) > 0 {
			select {
			case <-time.After(opts.Interval):
			case <-ctx.Done():
				return fail(ctx.Err())
			}
		}
	}
	if _, err := io.WriteString(requestWriter, "quit\n"); err != nil {
		return fail(fmt.Errorf("ending the probe script: %w", err))
	}
	requestWriter.Close()
	e := <-done
	if e.err != nil {
		return results, fmt.Errorf("running the probe script: %w", e.err)
	}
	if e.status != 0 {
		return results, fmt.Errorf("the probe script failed with exit status %d", e.status)
	}
	return results, nil
}
