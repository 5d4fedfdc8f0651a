package ami

import (
	_ "embed"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/packer-plugin-sdk/acctest"

	"github.com/golden-ami/packer-plugin-golden/internal/acceptance"
)

// The acceptance tests run the real packer with this plugin installed (`make dev`) against real
// AWS, and only with PACKER_ACC=1: `make testacc`. They read public images and create nothing.

//go:embed test-fixtures/public-images.pkr.hcl
var publicImagesTemplate string

//go:embed test-fixtures/absent-image.pkr.hcl
var absentImageTemplate string

var amiID = regexp.MustCompile(`^ami-[0-9a-f]{8}([0-9a-f]{9})?$`)

// amazonOwner is the account Amazon Linux images are published from.
const amazonOwner = "137112412989"

// TestAccDatasource_publicImages selects the newest Debian 12 image by filters, sorted by creation
// date and by name, and the current Amazon Linux 2023 image through its public SSM parameter, and
// checks what real EC2 returned.
func TestAccDatasource_publicImages(t *testing.T) {
	out := filepath.Join(t.TempDir(), "outputs.json")
	tc := acceptance.NewCase("golden_ami_public_images", acceptance.Debian, publicImagesTemplate, map[string]string{"out": out})
	tc.Check = func(build *exec.Cmd, logfile string) error {
		if err := acceptance.BuildSucceeded(build, logfile); err != nil {
			return err
		}
		var got struct {
			Debian       imageOutputs `json:"debian"`
			DebianByName imageOutputs `json:"debian_by_name"`
			AL2023       imageOutputs `json:"al2023"`
		}
		if err := acceptance.ReadJSON(out, &got); err != nil {
			return err
		}
		return checkPublicImages(got.Debian, got.DebianByName, got.AL2023)
	}
	acctest.TestPlugin(t, tc)
}

// imageOutputs are the outputs the checks read, as the template's jsonencode writes them.
type imageOutputs struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Owner        string `json:"owner"`
	Architecture string `json:"architecture"`
	CreationDate string `json:"creation_date"`
}

func checkPublicImages(debian, debianByName, al2023 imageOutputs) error {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, o := range []imageOutputs{debian, al2023} {
		if !amiID.MatchString(o.ID) {
			fail("id %q is not an AMI id", o.ID)
		}
		if o.Architecture != "x86_64" {
			fail("%s: architecture %q, want x86_64", o.ID, o.Architecture)
		}
	}
	if debian.Owner != acceptance.DebianOwner || !strings.HasPrefix(debian.Name, "debian-12-amd64-") {
		fail("filters picked %s %q owned by %s, want a debian-12-amd64-* image of %s", debian.ID, debian.Name, debian.Owner, acceptance.DebianOwner)
	}
	// Among dozens of Debian 12 builds, the newest by creation date is the last by name: any
	// other pick means one of the sorts is wrong.
	if debian.ID != debianByName.ID {
		fail("newest by creation date is %s (%s, %s), by name %s (%s, %s)", debian.ID, debian.Name, debian.CreationDate,
			debianByName.ID, debianByName.Name, debianByName.CreationDate)
	}
	if _, err := time.Parse(time.RFC3339, debian.CreationDate); err != nil {
		fail("creation_date %q: %v", debian.CreationDate, err)
	}
	if al2023.Owner != amazonOwner || !strings.HasPrefix(al2023.Name, "al2023-ami-") {
		fail("ssm_parameter gave %s %q owned by %s, want an al2023-ami-* image of %s", al2023.ID, al2023.Name, al2023.Owner, amazonOwner)
	}
	if len(problems) > 0 {
		return fmt.Errorf("golden-ami outputs: %s", strings.Join(problems, "; "))
	}
	return nil
}

// TestAccDatasource_noMatch fails the build on a selection nothing matches, naming it.
func TestAccDatasource_noMatch(t *testing.T) {
	region := acceptance.Region()
	name := acceptance.RunName("absent") + "-*"
	acctest.TestPlugin(t, &acctest.PluginTestCase{
		Name:           "golden_ami_no_match",
		Template:       absentImageTemplate,
		BuildExtraArgs: acceptance.Vars(map[string]string{"region": region, "name": name}),
		Check:          acceptance.BuildFailedWith("no AMI in "+region+" matches", name),
	})
}
