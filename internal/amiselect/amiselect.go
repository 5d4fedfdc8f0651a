// Package amiselect picks one AMI among those DescribeImages returned, the same way for every
// component that chooses an image by search: golden-ami's filters and golden-ebs's
// source_ami_filter. The choice is a pure function of the images, the criteria and the time.
package amiselect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
	"github.com/golden-ami/packer-plugin-golden/internal/lifecycle"
)

// Sort orders of Criteria.SortBy.
const (
	SortByCreationDate = "creation_date"
	SortByName         = "name"
)

// Criteria is what an image must satisfy to be picked. The EC2 API applies the same filters, but
// they are checked again here: EC2 treats * and ? in tag values as wildcards where the user asked
// for exact values, and shows an owner its own deprecated images whatever IncludeDeprecated says,
// so that a search of "self" would otherwise pick the account's own deprecated image.
type Criteria struct {
	Region            string
	Owners            []string // for messages only: "self" cannot be checked without the account ID
	Name              string   // pattern with * and ?
	Tags              map[string]string
	Architecture      string
	RequireValidated  bool
	IncludeDeprecated bool
	SortBy            string // SortByCreationDate (also when empty) or SortByName
	MostRecent        bool
	// Filters are DescribeImages filters EC2 applied that the fields above do not express
	// (golden-ebs's source_ami_filter.filters); they are named in messages, not checked again.
	Filters map[string]string
}

// rejection says why an image the API returned was not picked.
type rejection struct {
	ImageID string
	Reason  string
}

// Pick chooses one image among those DescribeImages returned. Its result depends only on its
// arguments: with ties on the sort key, the other key and then the AMI ID decide. It fails, naming
// every criterion, when no image qualifies, and when several do and MostRecent is false.
func Pick(images []types.Image, c Criteria, now time.Time) (types.Image, error) {
	var matches []types.Image
	var rejected []rejection
	for _, img := range images {
		if reason := c.Reject(img, now); reason != "" {
			rejected = append(rejected, rejection{ImageID: aws.ToString(img.ImageId), Reason: reason})
			continue
		}
		matches = append(matches, img)
	}
	if len(matches) == 0 {
		return types.Image{}, noMatchError(c, rejected)
	}
	slices.SortFunc(matches, c.newestFirst)
	if len(matches) > 1 && !c.MostRecent {
		return types.Image{}, fmt.Errorf("%d AMIs in %s match %s, and most_recent = false requires exactly one: %s",
			len(matches), c.Region, c.describe(), listImages(matches, 10))
	}
	return matches[0], nil
}

// Reject returns why img does not satisfy c, or "" when it does.
func (c Criteria) Reject(img types.Image, now time.Time) string {
	tags := lifecycle.TagMap(img.Tags)
	switch {
	case img.State != types.ImageStateAvailable:
		return fmt.Sprintf("state %s", img.State)
	case c.Name != "" && !lifecycle.MatchGlob(c.Name, aws.ToString(img.Name)):
		return fmt.Sprintf("name %q does not match", aws.ToString(img.Name))
	case c.Architecture != "" && string(img.Architecture) != c.Architecture:
		return fmt.Sprintf("architecture %s", img.Architecture)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Tags)) {
		if got, ok := tags[k]; !ok || got != c.Tags[k] {
			return fmt.Sprintf("tag %s is %s", k, describeTagValue(got, ok))
		}
	}
	if c.RequireValidated && tags[goldentag.Validation] != goldentag.ValidationPassed {
		got, ok := tags[goldentag.Validation]
		return fmt.Sprintf("not validated (tag %s is %s)", goldentag.Validation, describeTagValue(got, ok))
	}
	if when, deprecated := deprecatedAt(img, now); deprecated && !c.IncludeDeprecated {
		return fmt.Sprintf("deprecated since %s (include_deprecated = true allows it)", when)
	}
	return ""
}

func describeTagValue(v string, ok bool) string {
	if !ok {
		return "missing"
	}
	return fmt.Sprintf("%q", v)
}

// deprecatedAt reports whether img's deprecation time has passed. An unreadable time counts as
// passed: a picked image must not turn out to be deprecated.
func deprecatedAt(img types.Image, now time.Time) (string, bool) {
	raw := aws.ToString(img.DeprecationTime)
	if raw == "" {
		return "", false
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return raw, true
	}
	return raw, !t.After(now)
}

// newestFirst orders images with the one to pick first.
func (c Criteria) newestFirst(a, b types.Image) int {
	byDate := cmp.Compare(creationTime(b).UnixNano(), creationTime(a).UnixNano())
	byName := cmp.Compare(aws.ToString(b.Name), aws.ToString(a.Name))
	byID := cmp.Compare(aws.ToString(b.ImageId), aws.ToString(a.ImageId))
	if c.SortBy == SortByName {
		return cmp.Or(byName, byDate, byID)
	}
	return cmp.Or(byDate, byName, byID)
}

// creationTime parses the image's creation date; an unreadable one sorts as oldest.
func creationTime(img types.Image) time.Time {
	t, err := time.Parse(time.RFC3339, aws.ToString(img.CreationDate))
	if err != nil {
		return time.Time{}
	}
	return t
}

// describe renders the criteria for error messages, so a user sees exactly what was searched.
func (c Criteria) describe() string {
	parts := []string{fmt.Sprintf("owners %s", quoteList(c.Owners))}
	if c.Name != "" {
		parts = append(parts, fmt.Sprintf("name %q", c.Name))
	}
	if len(c.Filters) > 0 {
		var filters []string
		for _, k := range slices.Sorted(maps.Keys(c.Filters)) {
			filters = append(filters, fmt.Sprintf("%s = %q", k, c.Filters[k]))
		}
		parts = append(parts, "filters {"+strings.Join(filters, ", ")+"}")
	}
	if len(c.Tags) > 0 {
		var tags []string
		for _, k := range slices.Sorted(maps.Keys(c.Tags)) {
			tags = append(tags, fmt.Sprintf("%s = %q", k, c.Tags[k]))
		}
		parts = append(parts, "tags {"+strings.Join(tags, ", ")+"}")
	}
	if c.Architecture != "" {
		parts = append(parts, fmt.Sprintf("architecture %q", c.Architecture))
	}
	if c.RequireValidated {
		parts = append(parts, fmt.Sprintf("validated (tag %s = %q)", goldentag.Validation, goldentag.ValidationPassed))
	}
	if !c.IncludeDeprecated {
		parts = append(parts, "not deprecated")
	}
	parts = append(parts, "state available")
	return strings.Join(parts, ", ")
}

func noMatchError(c Criteria, rejected []rejection) error {
	msg := fmt.Sprintf("no AMI in %s matches %s", c.Region, c.describe())
	if len(rejected) > 0 {
		var why []string
		for i, r := range rejected {
			if i == 10 {
				why = append(why, fmt.Sprintf("and %d more", len(rejected)-i))
				break
			}
			why = append(why, fmt.Sprintf("%s: %s", r.ImageID, r.Reason))
		}
		msg += fmt.Sprintf("; %d found by the API were left out: %s", len(rejected), strings.Join(why, "; "))
	}
	return errors.New(msg)
}

func listImages(images []types.Image, limit int) string {
	var items []string
	for i, img := range images {
		if i == limit {
			items = append(items, fmt.Sprintf("and %d more", len(images)-i))
			break
		}
		items = append(items, fmt.Sprintf("%s (%q, %s)", aws.ToString(img.ImageId), aws.ToString(img.Name), aws.ToString(img.CreationDate)))
	}
	return strings.Join(items, ", ")
}

func quoteList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// DescribeAll reads every page of DescribeImages.
func DescribeAll(ctx context.Context, client ec2.DescribeImagesAPIClient, in *ec2.DescribeImagesInput) ([]types.Image, error) {
	var images []types.Image
	pages := ec2.NewDescribeImagesPaginator(client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		images = append(images, page.Images...)
	}
	return images, nil
}
