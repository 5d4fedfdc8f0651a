package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"

	"github.com/golden-ami/packer-plugin-golden/internal/amiref"
	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// BuilderID identifies the artifacts golden-lifecycle produces.
const BuilderID = amiref.BuilderIDGoldenLifecycle

// Artifact lists the image in every region after the lifecycle ran: the one the build produced
// and every copy.
type Artifact struct {
	// Images holds the build's image first, then the copies by region.
	Images []lifecycle.RegionImage
	// ManifestPath and ReportPath are the files the run wrote, if any.
	ManifestPath, ReportPath string
	// Prune is the prune report, when the run pruned.
	Prune *lifecycle.Report
	// SourceAMI is the image the build started from, when known.
	SourceAMI string
	// Input is the artifact the post-processor received; state this artifact does not hold is
	// read from it, so later post-processors still see the builder's data.
	Input packersdk.Artifact

	access *awsconf.AccessConfig
}

var _ packersdk.Artifact = (*Artifact)(nil)

// BuilderId returns golden-ami.golden-lifecycle.
func (a *Artifact) BuilderId() string { return BuilderID }

// Files lists the manifest and the prune report, when written.
func (a *Artifact) Files() []string {
	var files []string
	for _, f := range []string{a.ManifestPath, a.ReportPath} {
		if f != "" {
			files = append(files, f)
		}
	}
	return files
}

func (a *Artifact) refs() []amiref.Ref {
	refs := make([]amiref.Ref, len(a.Images))
	for i, img := range a.Images {
		refs[i] = amiref.Ref{Region: img.Region, ImageID: img.ImageID}
	}
	return refs
}

// Id returns every region:ami pair, comma separated, as EC2 builders do.
func (a *Artifact) Id() string { return amiref.Format(a.refs()) }

// String lists the images for the build's summary.
func (a *Artifact) String() string {
	lines := make([]string, 0, len(a.Images))
	for _, img := range a.Images {
		line := fmt.Sprintf("%s: %s", img.Region, img.ImageID)
		if img.CopiedFrom != "" {
			line += " (copy)"
		}
		lines = append(lines, line)
	}
	sort.Strings(lines)
	return "AMIs after golden-lifecycle:\n" + strings.Join(lines, "\n") + "\n"
}

// amis maps region to image id.
func (a *Artifact) amis() map[string]string {
	m := make(map[string]string, len(a.Images))
	for _, img := range a.Images {
		m[img.Region] = img.ImageID
	}
	return m
}

// State returns "amis" (region -> image id), "manifest" (the manifest's path), "prune" (the
// prune report as JSON), the metadata HCP Packer and Atlas read, and otherwise the input artifact's
// state. Values cross Packer's plugin RPC, so they are plain strings and string maps.
func (a *Artifact) State(name string) interface{} {
	switch name {
	case "amis":
		return a.amis()
	case "manifest":
		return a.ManifestPath
	case "prune":
		if a.Prune == nil {
			return ""
		}
		data, err := a.Prune.JSON()
		if err != nil {
			return ""
		}
		return string(data)
	case "atlas.artifact.metadata":
		meta := map[string]string{}
		for region, id := range a.amis() {
			meta["region."+region] = id
		}
		return meta
	case registryimage.ArtifactStateURI:
		return a.registryImages()
	}
	if a.Input != nil {
		return a.Input.State(name)
	}
	return nil
}

func (a *Artifact) registryImages() []*registryimage.Image {
	images := make([]*registryimage.Image, 0, len(a.Images))
	for _, img := range a.Images {
		images = append(images, &registryimage.Image{
			ImageID:        img.ImageID,
			ProviderName:   "aws",
			ProviderRegion: img.Region,
			SourceImageID:  a.SourceAMI,
			Labels:         img.Tags,
		})
	}
	return images
}

// destroyTimeout bounds Destroy, which has no context of its own.
const destroyTimeout = 15 * time.Minute

// Destroy deregisters every image of the artifact and deletes its snapshots, the way the EC2
// builders' artifacts do. Packer calls it only when a later post-processor discards this artifact.
func (a *Artifact) Destroy() error {
	if a.access == nil {
		return errors.New("golden-lifecycle artifact: no AWS access to destroy it with")
	}
	ctx, cancel := context.WithTimeout(context.Background(), destroyTimeout)
	defer cancel()
	var errs []error
	for _, img := range a.Images {
		log.Printf("[INFO] golden-lifecycle: deregistering %s:%s", img.Region, img.ImageID)
		if err := destroyImage(ctx, a.access.ForRegion(img.Region), img); err != nil {
			errs = append(errs, fmt.Errorf("destroying %s:%s: %w", img.Region, img.ImageID, err))
		}
	}
	return errors.Join(errs...)
}

func destroyImage(ctx context.Context, access *awsconf.AccessConfig, img lifecycle.RegionImage) error {
	client, err := access.EC2Client(ctx)
	if err != nil {
		return err
	}
	if _, err := client.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(img.ImageID)}); err != nil {
		return err
	}
	var errs []error
	for _, snap := range img.Snapshots {
		if _, err := client.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)}); err != nil {
			errs = append(errs, fmt.Errorf("deleting snapshot %s: %w", snap, err))
		}
	}
	return errors.Join(errs...)
}
