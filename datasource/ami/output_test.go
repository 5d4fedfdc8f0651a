package ami

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// image builds a test image: available, x86_64, with the given id, name, creation date and tags
// ("k=v" pairs).
func image(id, name, created string, tags ...string) types.Image {
	img := types.Image{
		ImageId: aws.String(id), Name: aws.String(name), CreationDate: aws.String(created),
		State: types.ImageStateAvailable, Architecture: types.ArchitectureValuesX8664, OwnerId: aws.String("123456789012"),
	}
	for _, kv := range tags {
		k, v, _ := strings.Cut(kv, "=")
		img.Tags = append(img.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return img
}

func TestOutputOf(t *testing.T) {
	img := image("ami-00000000000000001", "golden", "2024-01-01T00:00:00.000Z", "golden:source-ami=ami-0aaaaaaaaaaaaaaaa", "golden:harden-score=87.5")
	img.SourceImageId = aws.String("ami-0bbbbbbbbbbbbbbbb")
	img.Description = aws.String("desc")
	img.DeprecationTime = aws.String("2026-01-01T00:00:00.000Z")
	out := outputOf(img)
	if out.SourceAMI != "ami-0aaaaaaaaaaaaaaaa" {
		t.Errorf("source_ami = %q, want the golden:source-ami tag over SourceImageId", out.SourceAMI)
	}
	if out.ComplianceScore != "87.5" || out.Description != "desc" || out.DeprecationTime != "2026-01-01T00:00:00.000Z" ||
		out.Architecture != "x86_64" || out.Owner != "123456789012" || out.Tags["golden:harden-score"] != "87.5" {
		t.Errorf("output = %+v", out)
	}

	copied := image("ami-00000000000000002", "golden-copy", "2024-01-01T00:00:00.000Z")
	copied.SourceImageId = aws.String("ami-0bbbbbbbbbbbbbbbb")
	if got := outputOf(copied); got.SourceAMI != "ami-0bbbbbbbbbbbbbbbb" || got.ComplianceScore != "" {
		t.Errorf("source_ami = %q, compliance_score = %q; want SourceImageId and empty", got.SourceAMI, got.ComplianceScore)
	}
}
