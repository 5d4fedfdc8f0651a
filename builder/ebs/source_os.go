package ebs

import (
	"regexp"
	"slices"
	"strings"
)

// sourceOS is an operating system source_os names: where its vendor publishes the id of the
// current image, who owns that image, and the user the vendor's image lets in.
type sourceOS struct {
	// parameter is the public SSM parameter per architecture ("x86_64", "arm64").
	parameter map[string]string
	// owner is the vendor's account; ownerAlias, when set, is accepted instead (Amazon's own
	// images report the alias "amazon").
	owner, ownerAlias string
	user              string
}

const (
	ownerCanonical = "099720109477"
	ownerDebian    = "136693071363"
	ownerAmazon    = "137112412989"
)

func ubuntu(version, volume string) sourceOS {
	prefix := "/aws/service/canonical/ubuntu/server/" + version + "/stable/current/"
	return sourceOS{
		parameter: map[string]string{
			"x86_64": prefix + "amd64/hvm/" + volume + "/ami-id",
			"arm64":  prefix + "arm64/hvm/" + volume + "/ami-id",
		},
		owner: ownerCanonical, user: "ubuntu",
	}
}

func debian(release string) sourceOS {
	prefix := "/aws/service/debian/release/" + release + "/latest/"
	return sourceOS{
		parameter: map[string]string{"x86_64": prefix + "amd64", "arm64": prefix + "arm64"},
		owner:     ownerDebian, user: "admin",
	}
}

// sourceOSes are the values of source_os.
var sourceOSes = map[string]sourceOS{
	"ubuntu-22.04": ubuntu("22.04", "ebs-gp2"),
	"ubuntu-24.04": ubuntu("24.04", "ebs-gp3"),
	"ubuntu-26.04": ubuntu("26.04", "ebs-gp3"),
	"debian-12":    debian("12"),
	"debian-13":    debian("13"),
	"al2023": {
		parameter: map[string]string{
			"x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
			"arm64":  "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
		},
		owner: ownerAmazon, ownerAlias: "amazon", user: "ec2-user",
	},
}

func sourceOSNames() string {
	names := make([]string, 0, len(sourceOSes))
	for n := range sourceOSes {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// gravitonFamily matches the instance families with AWS Graviton (arm64) processors: a "g" among
// the letters after the generation digit (t4g, m7g, c7gn, im4gn, is4gen), and a1.
var gravitonFamily = regexp.MustCompile(`^(a1|[a-z]+[0-9]+[a-z]*g[a-z]*)$`)

// architectureOf is the architecture an instance type runs.
func architectureOf(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	family, _, _ = strings.Cut(family, "-")
	if gravitonFamily.MatchString(family) {
		return "arm64"
	}
	return "x86_64"
}
