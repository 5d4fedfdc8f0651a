// Package acceptance holds what the acceptance tests of the components share. Those tests run the
// real packer binary against real AWS through the plugin SDK's acctest, and only with PACKER_ACC=1
// (see the test section of docs/development.md): the region they build in, unique names for what
// they create, checks of packer's exit status and log, and the cleanup of the images they leave.
package acceptance

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
)

// DebianOwner is the account the Debian project publishes its official AMIs from; the tests
// build on its newest Debian 12 image, the smallest stock image our components support.
const DebianOwner = "136693071363"

// The shared beginnings of the acceptance templates.
var (
	//go:embed templates/debian.pkr.hcl
	debianTemplate string
	//go:embed templates/debian-ebs.pkr.hcl
	debianEBSTemplate string
)

// Base is what a component's fixture is run on.
type Base int

const (
	// Debian declares the data source golden-ami.debian (the newest official Debian 12 image)
	// and the variables region and debian_owner.
	Debian Base = iota
	// DebianEBS adds the amazon-ebs source "debian", a t3.micro launched from that image, and
	// the variables run_name and skip_create_ami. It needs `packer init` for packer-plugin-amazon.
	DebianEBS
)

// NewCase returns the test case that runs fixture on base in Region(), with vars and the ones
// base declares; the caller adds the Check and, when the build creates anything, the Teardown.
func NewCase(name string, base Base, fixture string, vars map[string]string) *acctest.PluginTestCase {
	all := map[string]string{"region": Region(), "debian_owner": DebianOwner}
	for k, v := range vars {
		all[k] = v
	}
	template := debianTemplate + "\n" + fixture
	if base == DebianEBS {
		template = debianTemplate + "\n" + debianEBSTemplate + "\n" + fixture
	}
	return &acctest.PluginTestCase{
		Name:           name,
		Init:           base == DebianEBS,
		Template:       template,
		BuildExtraArgs: Vars(all),
	}
}

// Region is where the tests build: GOLDEN_ACC_REGION, else us-east-1.
func Region() string {
	if r := os.Getenv("GOLDEN_ACC_REGION"); r != "" {
		return r
	}
	return "us-east-1"
}

// CopyRegion is where the tests copy images to: GOLDEN_ACC_COPY_REGION, else us-west-2 (us-east-2
// when the tests build in us-west-2).
func CopyRegion() string {
	if r := os.Getenv("GOLDEN_ACC_COPY_REGION"); r != "" {
		return r
	}
	if Region() == "us-west-2" {
		return "us-east-2"
	}
	return "us-west-2"
}

// RunName names what one test run creates, e.g. "golden-acc-lifecycle-1767225600": unique per
// run, so runs never see each other's images, and searchable when a run dies before its cleanup.
func RunName(component string) string {
	return fmt.Sprintf("golden-acc-%s-%d", component, time.Now().Unix())
}

// Vars turns template variables into `packer build` arguments, in a stable order.
func Vars(vars map[string]string) []string {
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	var args []string
	for _, name := range names {
		args = append(args, "-var", name+"="+vars[name])
	}
	return args
}

// BuildSucceeded checks that `packer build` exited 0; otherwise the error quotes the errors packer
// reported, read from the build's log.
func BuildSucceeded(build *exec.Cmd, logfile string) error {
	if code := exitCode(build); code != 0 {
		return fmt.Errorf("packer build exited %d: %s", code, strings.Join(uiErrors(logfile), " | "))
	}
	return nil
}

// BuildFailedWith returns a check that `packer build` failed and said every one of messages.
func BuildFailedWith(messages ...string) func(*exec.Cmd, string) error {
	return func(build *exec.Cmd, logfile string) error {
		if code := exitCode(build); code == 0 {
			return errors.New("packer build succeeded, want a failure")
		}
		log, err := ReadLog(logfile)
		if err != nil {
			return err
		}
		// Packer wraps long messages; compare with every run of whitespace as one space.
		log = flat(log)
		for _, m := range messages {
			if !strings.Contains(log, flat(m)) {
				return fmt.Errorf("packer build failed without saying %q: %s", m, strings.Join(uiErrors(logfile), " | "))
			}
		}
		return nil
	}
}

func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func exitCode(build *exec.Cmd) int {
	if build.ProcessState == nil {
		return -1 // never started: packer is missing or not executable
	}
	return build.ProcessState.ExitCode()
}

// logLine starts every line the log package wrote; a line without it continues a message.
var logLine = regexp.MustCompile(`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `)

// ansiColor matches the colour codes packer puts around UI messages.
var ansiColor = regexp.MustCompile("\x1b\\[[0-9;]*m")

// ReadLog reads a build's log (PACKER_LOG=1) without the colour codes, so that messages can be
// searched for as packer printed them.
func ReadLog(logfile string) (string, error) {
	b, err := os.ReadFile(logfile)
	if err != nil {
		return "", fmt.Errorf("reading the build log: %w", err)
	}
	return ansiColor.ReplaceAllString(string(b), ""), nil
}

// uiErrors lists the errors packer showed the user: the log's "ui error:" messages, each with the
// lines that continue it.
func uiErrors(logfile string) []string {
	log, err := ReadLog(logfile)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	inError := false
	for _, line := range strings.Split(log, "\n") {
		if logLine.MatchString(line) {
			_, msg, ok := strings.Cut(line, " ui error: ")
			if inError = ok; ok {
				out = append(out, msg)
			}
			continue
		}
		if inError && strings.TrimSpace(line) != "" {
			out[len(out)-1] += " " + strings.TrimSpace(line)
		}
	}
	if len(out) == 0 {
		return []string{"(no error in the build log " + logfile + ")"}
	}
	return out
}

// PackerManifest is what packer's manifest post-processor writes: one entry per build, with the
// artifact's id and the custom data, where a template records the build's generated data.
type PackerManifest struct {
	Builds []struct {
		Name        string            `json:"name"`
		BuilderType string            `json:"builder_type"`
		ArtifactID  string            `json:"artifact_id"`
		CustomData  map[string]string `json:"custom_data"`
	} `json:"builds"`
}

// ReadJSON decodes a file the build wrote.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("the build did not write %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// CleanUpImages deregisters every image of this account in region tagged key=value, with its
// snapshots, and returns the ids it deregistered.
func CleanUpImages(ctx context.Context, region, key, value string) ([]string, error) {
	access := &awsconf.AccessConfig{Region: region}
	client, err := access.EC2Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("EC2 client for %s: %w", region, err)
	}
	out, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:            []string{"self"},
		Filters:           []types.Filter{{Name: aws.String("tag:" + key), Values: []string{value}}},
		IncludeDeprecated: aws.Bool(true),
		IncludeDisabled:   aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("listing images tagged %s=%s in %s: %w", key, value, region, err)
	}
	var ids []string
	var errs []error
	for _, img := range out.Images {
		id := aws.ToString(img.ImageId)
		if _, err := client.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: img.ImageId, DeleteAssociatedSnapshots: aws.Bool(true)}); err != nil {
			errs = append(errs, fmt.Errorf("deregistering %s in %s: %w", id, region, err))
			continue
		}
		ids = append(ids, id)
	}
	return ids, errors.Join(errs...)
}

// DeleteParameter deletes an SSM parameter in region; one that does not exist is not an error.
func DeleteParameter(ctx context.Context, region, name string) error {
	access := &awsconf.AccessConfig{Region: region}
	client, err := access.SSMClient(ctx)
	if err != nil {
		return fmt.Errorf("SSM client for %s: %w", region, err)
	}
	_, err = client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	var missing *ssmtypes.ParameterNotFound
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("deleting SSM parameter %s in %s: %w", name, region, err)
	}
	return nil
}
