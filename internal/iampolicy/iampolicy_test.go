package iampolicy

import (
	"slices"
	"strings"
	"testing"
)

func TestActions(t *testing.T) {
	doc := "# Page\n\n## Other\n\n```json\n{\"Statement\": [{\"Action\": \"s3:GetObject\"}]}\n```\n\n" +
		"## Required IAM permissions\n\nText.\n\n```json\n{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n" +
		"    {\"Effect\": \"Allow\", \"Action\": [\"ec2:RunInstances\", \"ec2:DescribeImages\"], \"Resource\": \"*\"},\n" +
		"    {\"Effect\": \"Allow\", \"Action\": \"ec2:CreateTags\", \"Resource\": \"*\"},\n" +
		"    {\"Effect\": \"Allow\", \"Action\": [\"ec2:RunInstances\"], \"Resource\": \"*\"}\n  ]\n}\n```\n"
	got, err := Actions(doc, "## Required IAM permissions")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ec2:CreateTags", "ec2:DescribeImages", "ec2:RunInstances"}; !slices.Equal(got, want) {
		t.Errorf("Actions = %q, want %q", got, want)
	}

	for _, bad := range []string{
		strings.Replace(doc, "## Required IAM permissions", "## Permissions", 1),
		strings.Replace(doc, "Text.\n\n```json", "Text.\n\n```hcl", 1),
		strings.Replace(doc, "\"Action\": \"ec2:CreateTags\"", "\"Action\": 7", 1),
		strings.Replace(doc, "\"Version\"", "Version", 1),
	} {
		if _, err := Actions(bad, "## Required IAM permissions"); err == nil {
			t.Errorf("Actions accepted a page without a readable policy:\n%s", bad)
		}
	}
}
