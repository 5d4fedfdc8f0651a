// Command golden-awssim serves the AWS simulator on its own, for `make demo` and for trying
// the plugin by hand:
//
//	go run ./cmd/golden-awssim -listen 127.0.0.1:4566 -seed seed.json
//
// then point the AWS SDK (and so Packer and the plugin) at it:
//
//	export AWS_ENDPOINT_URL=http://127.0.0.1:4566
//	export AWS_ACCESS_KEY_ID=AKIDSIMULATOR AWS_SECRET_ACCESS_KEY=simulator AWS_REGION=us-east-1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "golden-awssim:", err)
		os.Exit(1)
	}
}

type options struct {
	listen, seed, instanceAddress, account string
	allowRemote, quiet                     bool
	delays                                 ec2sim.Delays
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("golden-awssim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4566", "address to serve on")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a -listen address other than loopback")
	fs.StringVar(&o.seed, "seed", "", "JSON seed file (see docs/simulator.md)")
	fs.StringVar(&o.instanceAddress, "instance-address", "127.0.0.1", "IP reported as public and private address of launched instances")
	fs.StringVar(&o.account, "account", ec2sim.DefaultAccountID, "account id the simulator acts as")
	fs.BoolVar(&o.quiet, "quiet", false, "do not log requests")
	fs.DurationVar(&o.delays.InstancePending, "instance-pending", time.Second, "time an instance stays pending")
	fs.DurationVar(&o.delays.InstanceStopping, "instance-stopping", time.Second, "time an instance stays stopping")
	fs.DurationVar(&o.delays.InstanceShuttingDown, "instance-shutting-down", time.Second, "time an instance stays shutting-down")
	fs.DurationVar(&o.delays.ImagePending, "image-pending", 2*time.Second, "time a new image stays pending")
	fs.DurationVar(&o.delays.CopyPending, "copy-pending", 2*time.Second, "time a copied image stays pending")
	fs.DurationVar(&o.delays.SnapshotPending, "snapshot-pending", time.Second, "time a new snapshot stays pending")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return o, fmt.Errorf("-listen %q: %w", o.listen, err)
	}
	if ip := net.ParseIP(host); !o.allowRemote && (ip == nil || !ip.IsLoopback()) {
		return o, fmt.Errorf("-listen %q is not a loopback address; pass -allow-remote to serve beyond this machine", o.listen)
	}
	if net.ParseIP(o.instanceAddress) == nil {
		return o, fmt.Errorf("-instance-address %q is not an IP address", o.instanceAddress)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags)
	opts := ec2sim.Options{AccountID: o.account, InstanceAddress: o.instanceAddress, Delays: o.delays}
	if !o.quiet {
		opts.Logf = logger.Printf
	}
	sim := ec2sim.New(opts)
	if o.seed != "" {
		sf, err := ec2sim.ReadSeedFile(o.seed)
		if err != nil {
			return err
		}
		if err := sim.Seed(sf); err != nil {
			return err
		}
	}
	if err := sim.Start(o.listen); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "golden-awssim listening on %s\n", sim.URL())
	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=AKIDSIMULATOR AWS_SECRET_ACCESS_KEY=simulator AWS_REGION=us-east-1\n", sim.URL())

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	logger.Printf("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return sim.Shutdown(shutdownCtx)
}
