package iam

import (
	"slices"
	"strings"
	"testing"
)

const goodDoc = "# IAM\n\n## golden-ami\n\ntext\n\n```json\n" + `{"Version": "2012-10-17", "Statement": [
  {"Sid": "A", "Effect": "Allow", "Action": ["ec2:DescribeImages", "ssm:GetParameter"], "Resource": "*"},
  {"Sid": "B", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": ["*"]}]}` + "\n```\n\n" +
	"Not exercised by the end-to-end suites yet: `ec2:CreateTags`,\n`ssm:GetParameter` (from the code).\n\n" +
	"## golden-harden\n\nThis component makes no AWS calls.\n\n## Narrowing further\n\n```json\n{}\n```\n"

func TestParseDoc(t *testing.T) {
	sections, err := ParseDoc([]byte(goodDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(sections) != 2 || sections[0].Component != "golden-ami" || sections[1].Component != "golden-harden" {
		t.Fatalf("sections %+v", sections)
	}
	if got := sections[0].Actions(); !slices.Equal(got, []string{"ec2:CreateTags", "ec2:DescribeImages", "ssm:GetParameter"}) {
		t.Errorf("actions %v", got)
	}
	if got := sections[0].Unexercised; !slices.Equal(got, []string{"ec2:CreateTags", "ssm:GetParameter"}) {
		t.Errorf("unexercised %v", got)
	}
	if sections[1].Policy != nil || sections[1].Actions() != nil {
		t.Errorf("golden-harden: %+v", sections[1])
	}
}

func TestParseDocRejects(t *testing.T) {
	policy := func(statement string) string {
		return "## golden-ami\n\n```json\n{\"Version\": \"2012-10-17\", \"Statement\": [" + statement + "]}\n```\n"
	}
	for _, tc := range []struct{ doc, want string }{
		{"## golden-ami\n\nnothing here\n", "neither a ```json policy"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}`), `"ec2:Describe*" is not one exact action`},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}`), "not one exact action"},
		{policy(`{"Sid": "A", "Effect": "Deny", "Action": "ec2:DescribeImages", "Resource": "*"}`), `Effect "Deny"`},
		{policy(`{"Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}`), "has no Sid"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:DescribeImages"}`), "no Resource"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}`), "needs no permission"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}, {"Sid": "B", "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}`), "already in statement 1"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*", "Principal": "*"}`), "unknown field"},
		{strings.Replace(policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}`), "2012-10-17", "2008-10-17", 1), "want 2012-10-17"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}`) + "\nNot exercised by the end-to-end suites yet: `ssm:GetParameter`.\n", "does not allow it"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}`) + "\nThis component makes no AWS calls.\n", "has a policy and says"},
		{policy(`{"Sid": "A", "Effect": "Allow", "Action": "ec2:DescribeImages", "Resource": "*"}`) + "\n## golden-ami\n\nThis component makes no AWS calls.\n", "a second section for golden-ami"},
		{"## golden-ami\n\n```json\n{\n", "never ends"},
	} {
		_, err := ParseDoc([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseDoc(%q): error %v, want one containing %q", tc.doc, err, tc.want)
		}
	}
}

func TestPolicyUnder(t *testing.T) {
	page := "# golden-x\n\n## Configuration\n\n```json\n{}\n```\n\n## Required IAM permissions\n\nText.\n\n```json\n" +
		`{"Version": "2012-10-17", "Statement": [
  {"Sid": "A", "Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:DescribeImages"], "Resource": "*"},
  {"Sid": "B", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}}]}` +
		"\n```\n\n## Next\n"
	p, err := PolicyUnder([]byte(page), "## Required IAM permissions")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Actions(); !slices.Equal(got, []string{"ec2:CreateTags", "ec2:DescribeImages", "ec2:RunInstances"}) {
		t.Errorf("actions %v", got)
	}
	for _, tc := range []struct{ page, want string }{
		{strings.Replace(page, "## Required IAM permissions", "## Permissions", 1), "no heading"},
		{strings.Replace(page, "Text.\n\n```json", "Text.\n\n```hcl", 1), "no ```json block"},
		{strings.Replace(page, `"ec2:DescribeImages"`, `"ec2:Describe*"`, 1), "not one exact action"},
		{strings.TrimSuffix(page, "\n```\n\n## Next\n"), "never ends"},
	} {
		if _, err := PolicyUnder([]byte(tc.page), "## Required IAM permissions"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PolicyUnder: error %v, want one containing %q", err, tc.want)
		}
	}
}

func TestDescribeComponents(t *testing.T) {
	d := Describe{Builders: []string{"ebs"}, Provisioners: []string{"harden"}, PostProcessors: []string{"lifecycle", "validate"}, Datasources: []string{"ami"}}
	want := []string{"golden-ami", "golden-ebs", "golden-harden", "golden-lifecycle", "golden-validate"}
	if got := d.Components(); !slices.Equal(got, want) {
		t.Errorf("components %v, want %v", got, want)
	}
}
