package awsconf

import (
	"regexp"
	"slices"
)

// knownRegions lists the regions of the commercial (aws), GovCloud (aws-us-gov) and China (aws-cn)
// partitions, taken from the partition metadata of the AWS SDK. A region that opens after this list was
// written is reached with `skip_region_validation = true` until the list is updated.
var knownRegions = []string{
	// aws
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2",
	"eu-north-1",
	"eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1", "me-west-1",
	"mx-central-1",
	"sa-east-1", "sa-west-1",
	"us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
	// aws-us-gov
	"us-gov-east-1", "us-gov-west-1",
	// aws-cn
	"cn-north-1", "cn-northwest-1",
}

// regionSyntax matches the shape every AWS region name has ("us-east-1", "us-gov-west-1",
// "us-isob-east-1", "eusc-de-east-1"): it lets callers tell a typo from a region this plugin does
// not know yet.
var regionSyntax = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$`)

// ValidRegion reports whether name is a region of the commercial, GovCloud or China partitions.
func ValidRegion(name string) bool {
	return slices.Contains(knownRegions, name)
}

// KnownRegions returns a copy of the region names ValidRegion accepts, in a stable order.
func KnownRegions() []string {
	return slices.Clone(knownRegions)
}

// ValidRegionSyntax reports whether name is shaped like an AWS region name, known or not.
func ValidRegionSyntax(name string) bool {
	return regionSyntax.MatchString(name)
}
