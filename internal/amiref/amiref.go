// Package amiref reads and writes the "region:ami-id[,region:ami-id]" form in which EC2 image
// artifacts name their AMIs, and extracts those references from the artifacts of the builders and
// post-processors that produce AMIs.
package amiref

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
)

// Builder ids of this plugin's AMI-producing components.
const (
	BuilderIDGoldenEBS       = "golden.ebs"
	BuilderIDGoldenLifecycle = "golden-ami.golden-lifecycle"
)

// Builder ids of packer-plugin-amazon's components whose artifact is a set of AMIs. Its other
// artifacts (amazon-ebsvolume: EBS volumes; amazon-ami-copy and manifest: pass-through ids of other
// shapes) are not images this plugin can work with.
const (
	BuilderIDAmazonEBS          = "mitchellh.amazonebs"
	BuilderIDAmazonEBSSurrogate = "mitchellh.amazon.ebssurrogate"
	BuilderIDAmazonInstance     = "mitchellh.amazon.instance"
	BuilderIDAmazonChroot       = "mitchellh.amazon.chroot"
	BuilderIDAmazonImport       = "packer.post-processor.amazon-import"
)

// acceptedBuilders maps each accepted builder id to the component users know it by, for messages.
var acceptedBuilders = map[string]string{
	BuilderIDGoldenEBS:          "golden-ebs",
	BuilderIDGoldenLifecycle:    "golden-lifecycle",
	BuilderIDAmazonEBS:          "amazon-ebs",
	BuilderIDAmazonEBSSurrogate: "amazon-ebssurrogate",
	BuilderIDAmazonInstance:     "amazon-instance",
	BuilderIDAmazonChroot:       "amazon-chroot",
	BuilderIDAmazonImport:       "amazon-import",
}

// Ref is one AMI in one region.
type Ref struct {
	Region  string
	ImageID string
}

// String returns the "region:ami-id" form.
func (r Ref) String() string { return r.Region + ":" + r.ImageID }

// imageIDSyntax matches both AMI id formats EC2 has issued: 8 hex digits (before 2016) and 17.
var imageIDSyntax = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// ValidImageID reports whether id is an AMI id ("ami-" and 8 or 17 lowercase hex digits).
func ValidImageID(id string) bool { return imageIDSyntax.MatchString(id) }

// Parse reads "region:ami-id[,region:ami-id]". Spaces around entries are ignored; every entry must
// name a well-formed region and AMI id, and a region may appear only once, because an artifact holds
// one AMI per region.
func Parse(s string) ([]Ref, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no AMI references: want region:ami-id[,region:ami-id]")
	}
	var refs []Ref
	seen := map[string]string{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		region, id, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not region:ami-id", entry)
		}
		if !awsconf.ValidRegionSyntax(region) {
			return nil, fmt.Errorf("%q: %q is not a region name", entry, region)
		}
		if !ValidImageID(id) {
			return nil, fmt.Errorf("%q: %q is not an AMI id (ami- and 8 or 17 hex digits)", entry, id)
		}
		if prev, dup := seen[region]; dup {
			return nil, fmt.Errorf("region %s appears twice (%s and %s)", region, prev, id)
		}
		seen[region] = id
		refs = append(refs, Ref{Region: region, ImageID: id})
	}
	return refs, nil
}

// Format writes refs as "region:ami-id[,region:ami-id]", sorted by region then id: the same order
// packer-plugin-amazon's artifacts use, so an id written here compares equal to one written there.
func Format(refs []Ref) string {
	sorted := slices.Clone(refs)
	slices.SortFunc(sorted, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.ImageID, b.ImageID))
	})
	parts := make([]string, len(sorted))
	for i, r := range sorted {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// AcceptsBuilder reports whether FromArtifact reads artifacts of builderID.
func AcceptsBuilder(builderID string) bool {
	_, ok := acceptedBuilders[builderID]
	return ok
}

// FromArtifact returns the AMIs an artifact holds. Only artifacts of AMI-producing components are
// read (see AcceptsBuilder); anything else is refused with an error naming its builder id, since
// the id of, say, a Docker image or an EBS volume set would otherwise be misread.
func FromArtifact(a packersdk.Artifact) ([]Ref, error) {
	if a == nil {
		return nil, errors.New("no artifact: this needs an AMI artifact from a builder such as golden-ebs or amazon-ebs")
	}
	builderID := a.BuilderId()
	component, ok := acceptedBuilders[builderID]
	if !ok {
		return nil, fmt.Errorf("artifact of builder %q is not an AMI artifact; want one from %s", builderID, acceptedList())
	}
	refs, err := Parse(a.Id())
	if err != nil {
		return nil, fmt.Errorf("reading the %s artifact id %q: %w", component, a.Id(), err)
	}
	return refs, nil
}

func acceptedList() string {
	names := make([]string, 0, len(acceptedBuilders))
	for _, n := range acceptedBuilders {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
