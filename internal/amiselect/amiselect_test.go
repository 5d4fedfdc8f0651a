package amiselect

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

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

func with(img types.Image, change func(*types.Image)) types.Image {
	change(&img)
	return img
}

func TestPick(t *testing.T) {
	base := Criteria{Region: "us-east-1", Owners: []string{"self"}, SortBy: SortByCreationDate, MostRecent: true}
	older := image("ami-00000000000000001", "golden-ubuntu-2024-01", "2024-01-01T00:00:00.000Z", "golden:validation=passed", "Team=platform")
	newer := image("ami-00000000000000002", "golden-ubuntu-2024-03", "2024-03-01T00:00:00.000Z", "golden:validation=passed", "Team=platform")
	newestUnvalidated := image("ami-00000000000000003", "golden-ubuntu-2024-05", "2024-05-01T00:00:00.000Z", "Team=platform")
	failed := image("ami-00000000000000004", "golden-ubuntu-2024-06", "2024-06-01T00:00:00.000Z", "golden:validation=failed", "Team=platform")
	deprecated := with(image("ami-00000000000000005", "golden-ubuntu-2025-01", "2025-01-01T00:00:00.000Z", "golden:validation=passed"),
		func(i *types.Image) { i.DeprecationTime = aws.String("2025-05-01T00:00:00.000Z") })
	deprecatesLater := with(image("ami-00000000000000006", "golden-ubuntu-2025-02", "2025-02-01T00:00:00.000Z"),
		func(i *types.Image) { i.DeprecationTime = aws.String("2026-01-01T00:00:00Z") })
	pending := with(image("ami-00000000000000007", "golden-ubuntu-2025-05", "2025-05-30T00:00:00.000Z"),
		func(i *types.Image) { i.State = types.ImageStatePending })
	arm := with(image("ami-00000000000000008", "golden-ubuntu-arm", "2025-04-01T00:00:00.000Z"),
		func(i *types.Image) { i.Architecture = types.ArchitectureValuesArm64 })
	// Same creation date: name decides, then id.
	tieA := image("ami-0000000000000000a", "golden-b", "2024-02-02T00:00:00.000Z")
	tieB := image("ami-0000000000000000b", "golden-a", "2024-02-02T00:00:00.000Z")
	tieC := image("ami-0000000000000000c", "golden-a", "2024-02-02T00:00:00.000Z")

	tests := []struct {
		name    string
		change  func(*Criteria)
		images  []types.Image
		want    string
		wantErr []string
	}{
		{name: "newest by creation date", images: []types.Image{older, newer, newestUnvalidated}, want: "ami-00000000000000003"},
		{name: "input order does not matter", images: []types.Image{newestUnvalidated, newer, older}, want: "ami-00000000000000003"},
		{
			name:   "require_validated skips unvalidated and failed",
			change: func(c *Criteria) { c.RequireValidated = true },
			images: []types.Image{older, failed, newer, newestUnvalidated}, want: "ami-00000000000000002",
		},
		{name: "deprecated left out by default", images: []types.Image{newer, deprecated}, want: "ami-00000000000000002"},
		{name: "include_deprecated", change: func(c *Criteria) { c.IncludeDeprecated = true }, images: []types.Image{newer, deprecated}, want: "ami-00000000000000005"},
		{name: "future deprecation is not deprecated yet", images: []types.Image{newer, deprecatesLater}, want: "ami-00000000000000006"},
		{name: "pending images are never picked", images: []types.Image{newer, pending}, want: "ami-00000000000000002"},
		{name: "architecture", change: func(c *Criteria) { c.Architecture = "arm64" }, images: []types.Image{newer, arm}, want: "ami-00000000000000008"},
		{name: "name pattern", change: func(c *Criteria) { c.Name = "golden-ubuntu-2024-0?" }, images: []types.Image{older, newer, deprecatesLater}, want: "ami-00000000000000002"},
		{
			name:   "sort_by name",
			change: func(c *Criteria) { c.SortBy = SortByName },
			images: []types.Image{image("ami-00000000000000011", "golden-v1.10", "2024-09-01T00:00:00Z"), image("ami-00000000000000012", "golden-v1.9", "2024-01-01T00:00:00Z")},
			want:   "ami-00000000000000012",
		},
		{name: "date tie broken by name", images: []types.Image{tieB, tieA}, want: "ami-0000000000000000a"},
		{name: "date and name tie broken by id", images: []types.Image{tieB, tieC}, want: "ami-0000000000000000c"},
		{name: "date and name tie broken by id, reversed", images: []types.Image{tieC, tieB}, want: "ami-0000000000000000c"},
		{
			name:   "name tie broken by date under sort_by name",
			change: func(c *Criteria) { c.SortBy = SortByName },
			images: []types.Image{image("ami-00000000000000021", "golden", "2024-01-01T00:00:00Z"), image("ami-00000000000000022", "golden", "2024-02-01T00:00:00Z")},
			want:   "ami-00000000000000022",
		},
		{
			name:   "tags are exact: EC2 wildcards in values do not leak through",
			change: func(c *Criteria) { c.Tags = map[string]string{"Team": "plat*"} },
			images: []types.Image{newer, image("ami-00000000000000031", "x", "2024-01-01T00:00:00Z", "Team=plat*")},
			want:   "ami-00000000000000031",
		},
		{
			name: "zero matches names every filter",
			change: func(c *Criteria) {
				c.Name = "golden-debian-*"
				c.Tags = map[string]string{"Team": "platform"}
				c.Architecture = "arm64"
				c.RequireValidated = true
			},
			images:  nil,
			wantErr: []string{`no AMI in us-east-1 matches owners ["self"], name "golden-debian-*", tags {Team = "platform"}, architecture "arm64", validated (tag golden:validation = "passed"), not deprecated, state available`},
		},
		{
			name:   "zero matches explains what was left out",
			change: func(c *Criteria) { c.RequireValidated = true },
			images: []types.Image{newestUnvalidated, failed, deprecated},
			wantErr: []string{
				"3 found by the API were left out",
				`ami-00000000000000003: not validated (tag golden:validation is missing)`,
				`ami-00000000000000004: not validated (tag golden:validation is "failed")`,
				"ami-00000000000000005: deprecated since 2025-05-01T00:00:00.000Z (include_deprecated = true allows it)",
			},
		},
		{
			name:    "most_recent = false with several matches",
			change:  func(c *Criteria) { c.MostRecent = false },
			images:  []types.Image{older, newer},
			wantErr: []string{"2 AMIs in us-east-1 match", "most_recent = false requires exactly one", `ami-00000000000000002 ("golden-ubuntu-2024-03"`},
		},
		{name: "most_recent = false with one match", change: func(c *Criteria) { c.MostRecent = false }, images: []types.Image{older}, want: "ami-00000000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			if tt.change != nil {
				tt.change(&c)
			}
			got, err := Pick(tt.images, c, now)
			if tt.wantErr != nil {
				requireErrorContains(t, err, tt.wantErr...)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id := aws.ToString(got.ImageId); id != tt.want {
				t.Errorf("pick = %s, want %s", id, tt.want)
			}
		})
	}
}

// requireErrorContains fails the test unless err is an error whose message contains every want.
func requireErrorContains(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
