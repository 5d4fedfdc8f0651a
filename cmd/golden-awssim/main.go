// Command golden-awssim serves the AWS simulator on its own, for `make demo` and for trying
// the plugin by hand:
//
//	go run ./cmd/golden-awssim -listen 127.0.0.1:4566 -seed seed.json
//
// then point the AWS SDK (and so Packer and the plugin) at it:
//
//	export AWS_ENDPOINT_URL=http://127.0.0.1:4566
//	export AWS_ACCESS_KEY_ID=AKIDSIMULATOR AWS_SECRET_ACCESS_KEY=simulator AWS_REGION=us-east-1
//
// With -machines (as root, in a checkout of this repository), instances of the vendors' seeded
// images and of images captured from them are real lab machines (see docs/test-lab.md): a template
// launches, logs in to, provisions and captures them as on EC2.
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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine"
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

	machines                bool
	labRepo, labDir, imdsAt string
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
	fs.BoolVar(&o.machines, "machines", false, "boot a lab machine for every instance of an image the lab has a disk for (root; see docs/test-lab.md)")
	fs.StringVar(&o.labRepo, "lab-repo", "", "with -machines: the checkout whose "+labmachine.ScriptPath+" runs the machines (default: found above the working folder)")
	fs.StringVar(&o.labDir, "lab-dir", "", "with -machines: the lab's state folder (default: $GOLDEN_LAB_DIR, or .lab/ in the checkout)")
	fs.StringVar(&o.imdsAt, "imds-listen", "127.0.0.1:0", "with -machines: where the machines' instance metadata service listens")
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
	if !o.machines {
		for name, v := range map[string]string{"-lab-repo": o.labRepo, "-lab-dir": o.labDir} {
			if v != "" {
				return o, fmt.Errorf("%s needs -machines", name)
			}
		}
		return o, nil
	}
	if h, _, err := net.SplitHostPort(o.imdsAt); err != nil {
		return o, fmt.Errorf("-imds-listen %q: %w", o.imdsAt, err)
	} else if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
		return o, fmt.Errorf("-imds-listen %q is not a loopback address: the machines' metadata requests are sent to 127.0.0.1", o.imdsAt)
	}
	if o.labRepo == "" {
		wd, err := os.Getwd()
		if err != nil {
			return o, err
		}
		if o.labRepo, err = findLabRepo(wd); err != nil {
			return o, err
		}
	} else if _, err := os.Stat(filepath.Join(o.labRepo, labmachine.ScriptPath)); err != nil {
		return o, fmt.Errorf("-lab-repo %q: no %s there", o.labRepo, labmachine.ScriptPath)
	}
	return o, nil
}

// findLabRepo is the first folder from dir upwards that holds the lab's script.
func findLabRepo(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, labmachine.ScriptPath)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("-machines: no %s in %s or above it; run from a checkout of this repository or pass -lab-repo", labmachine.ScriptPath, dir)
		}
	}
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
	var host *labmachine.Host
	if o.machines {
		if os.Geteuid() != 0 {
			return errors.New("-machines needs root (systemd-nspawn, network namespaces, nftables; see docs/test-lab.md)")
		}
		// The lab's keeper removes this process's machines and layers if it is killed.
		host, err = labmachine.New(labmachine.Options{RepoRoot: o.labRepo, LabDir: o.labDir})
		if err != nil {
			return err
		}
		opts.Machines, opts.IMDSListen = host, o.imdsAt
		defer func() {
			logger.Printf("stopping the machines")
			if err := host.Close(); err != nil {
				logger.Printf("stopping the machines: %v", err)
			}
		}()
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
	if host != nil {
		fmt.Fprintf(stdout, "machines: %s (instance metadata service on %s)\n", strings.Join(host.BaseImages(), " "), sim.IMDSAddress())
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	logger.Printf("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return sim.Shutdown(shutdownCtx)
}
