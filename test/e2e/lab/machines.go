package lab

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
	"github.com/golden-ami/packer-plugin-golden/internal/labmachine"
)

// Machines is the lab's host of machines for the simulator (ec2sim.Options.Machines): every
// instance of a vendor image, or of an image made from such an instance, is a real machine booted
// from that image. Its machines and captured layers are removed when the test ends, after the
// simulators the test started later have closed.
func Machines(t *testing.T) *labmachine.Host {
	t.Helper()
	RequireLab(t)
	h, err := labmachine.New(labmachine.Options{RepoRoot: RepoRoot(t)})
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("lab: closing the machine host: %v", err)
		}
	})
	return h
}

// MachineOSes are the operating systems a test boots lab machines of: def unless GOLDEN_LAB_OSES
// names others (comma separated, or "all" for every base image the host has; a test without a
// host of its own, h nil, gets def for "all").
func MachineOSes(h *labmachine.Host, def ...string) []string {
	switch v := strings.TrimSpace(os.Getenv("GOLDEN_LAB_OSES")); v {
	case "":
		return def
	case "all":
		if h == nil {
			return def
		}
		return h.BaseImages()
	default:
		return strings.Split(v, ",")
	}
}

// PrepareImages builds the base images of oses that are not cached yet, so that a boot does not
// wait for the build (and a build's minutes do not count against a test's timeouts).
func PrepareImages(t *testing.T, h *labmachine.Host, oses ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), scriptTimeout)
	defer cancel()
	for _, o := range oses {
		if err := h.PrepareImage(ctx, o); err != nil {
			t.Fatalf("lab: the %s image: %v", o, err)
		}
	}
}

// SimEC2 is an EC2 client of the simulator, with the credentials and region UseSim gives packer.
func SimEC2(sim *ec2sim.Server) *ec2.Client {
	return ec2.NewFromConfig(aws.Config{
		Region:       SimRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(SimAccessKeyID, SimSecretAccessKey, ""),
		BaseEndpoint: aws.String(sim.URL()),
	})
}

// machineWait bounds a wait for a lab machine to boot and answer SSH on a loaded host.
const machineWait = 5 * time.Minute
