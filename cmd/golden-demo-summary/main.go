// Command golden-demo-summary prints what `make demo` did, from the reports its template wrote and
// from AWS (the simulator) afterwards:
//
//	golden-demo-summary -reports DIR -log packer.log [-json summary.json]
//
// DIR holds packer's manifest (packer-manifest.json) and the JSON reports of golden-harden
// (harden.json), golden-validate (validate.json) and golden-lifecycle (lifecycle.json); the log is
// the output of `packer build -timestamp-ui`, whose stamps give each stage's wall time. The image
// of every region, its SSM parameter and the pipeline's remaining images are read back from AWS
// with the environment's configuration (AWS_ENDPOINT_URL and the credentials).
//
//	golden-demo-summary -leftovers us-east-1,us-west-2
//
// only lists the temporary instances of golden-ebs and golden-validate that are not terminated,
// and exits with status 1 when there is one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go/logging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, awsClients)
	stop()
	if errors.Is(err, errLeftovers) {
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "golden-demo-summary:", err)
		os.Exit(2)
	}
}

// errLeftovers: temporary instances are still alive.
var errLeftovers = errors.New("temporary instances are left")

type options struct {
	reports, log, jsonOut, pipeline string
	leftovers                       []string
	wait                            time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var leftovers string
	fs := flag.NewFlagSet("golden-demo-summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.reports, "reports", "", "the folder of the template's reports")
	fs.StringVar(&o.log, "log", "", "the output of packer build -timestamp-ui, for the stages' wall times")
	fs.StringVar(&o.jsonOut, "json", "", "also write the summary as JSON to this file")
	fs.StringVar(&o.pipeline, "pipeline", "golden-demo", "the golden:pipeline tag of the pipeline's images")
	fs.StringVar(&leftovers, "leftovers", "", "only list the temporary instances left in these regions (comma separated)")
	fs.DurationVar(&o.wait, "wait", 2*time.Minute, "how long an instance that is shutting down is given to be terminated")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if leftovers != "" {
		o.leftovers = strings.Split(leftovers, ",")
		if o.reports != "" || o.log != "" || o.jsonOut != "" {
			return o, errors.New("-leftovers takes no -reports, -log or -json")
		}
		return o, nil
	}
	if o.reports == "" {
		return o, errors.New("-reports is required")
	}
	return o, nil
}

// awsClients are clients of the environment's AWS configuration (the simulator's endpoint in the
// demo).
func awsClients(ctx context.Context) (Clients, error) {
	// The SDK's warnings (a response body it could not drain for connection reuse) are not the
	// summary's business.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(logging.Nop{}))
	if err != nil {
		return nil, err
	}
	return func(region string) (ec2API, ssmAPI) {
		c := cfg.Copy()
		c.Region = region
		return ec2.NewFromConfig(c), ssm.NewFromConfig(c)
	}, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, newClients func(context.Context) (Clients, error)) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	clients, err := newClients(ctx)
	if err != nil {
		return err
	}
	if o.leftovers != nil {
		left, err := Leftovers(ctx, clients, o.leftovers, o.wait)
		if err != nil {
			return err
		}
		if err := writeLeftovers(stdout, left); err != nil {
			return err
		}
		if len(left) > 0 {
			return errLeftovers
		}
		return nil
	}

	s, err := FromReports(o.reports)
	if err != nil {
		return err
	}
	if o.log != "" {
		f, err := os.Open(o.log)
		if err != nil {
			return err
		}
		s.Stages, err = ParseStages(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("reading %s: %w", o.log, err)
		}
	}
	if err := s.Observe(ctx, clients, o.pipeline); err != nil {
		return err
	}
	regions := make([]string, len(s.Regions))
	for i, r := range s.Regions {
		regions[i] = r.Region
	}
	if s.Leftovers, err = Leftovers(ctx, clients, regions, o.wait); err != nil {
		return err
	}
	if s.Leftovers == nil {
		s.Leftovers = []Instance{}
	}
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return s.Write(stdout)
}
