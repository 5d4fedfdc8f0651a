package ec2sim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

type ec2Image = types.Image

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func TestDescribeImagesFiltersAndOwners(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "eu-west-1"
	old := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-20240101", CreationDate: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Tags: map[string]string{"Team": "platform", "golden:validation": "passed"}})
	newer := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-ubuntu-22.04-20240201", Architecture: "arm64",
		Tags: map[string]string{"Team": "platform"}})
	other := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-debian-12-20240201", OwnerID: "210987654321", Public: true})
	private := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-hidden", OwnerID: "210987654321"})
	shared := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-shared", OwnerID: "210987654321", SharedWith: []string{ec2sim.DefaultAccountID}})
	client := newEC2(s, region)
	c := ctx(t)

	tests := []struct {
		name string
		in   ec2.DescribeImagesInput
		want []string
	}{
		{"self", ec2.DescribeImagesInput{Owners: []string{"self"}}, []string{old, newer}},
		{"wildcard name", ec2.DescribeImagesInput{Filters: []types.Filter{filter("name", "golden-*-2024020?")}}, []string{newer, other}},
		{"tag", ec2.DescribeImagesInput{Filters: []types.Filter{filter("tag:golden:validation", "passed")}}, []string{old}},
		{"tag-key", ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []types.Filter{filter("tag-key", "Team")}}, []string{old, newer}},
		{"architecture", ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []types.Filter{filter("architecture", "arm64")}}, []string{newer}},
		{"owner-id filter", ec2.DescribeImagesInput{Filters: []types.Filter{filter("owner-id", "210987654321")}}, []string{other, shared}},
		{"owner account", ec2.DescribeImagesInput{Owners: []string{"210987654321"}}, []string{other, shared}},
		{"is-public", ec2.DescribeImagesInput{Owners: []string{"self", "210987654321"}, Filters: []types.Filter{filter("is-public", "true")}}, []string{other}},
		{"by id", ec2.DescribeImagesInput{ImageIds: []string{newer, old}}, []string{old, newer}},
		{"values are alternatives", ec2.DescribeImagesInput{Filters: []types.Filter{filter("name", "golden-shared", "golden-debian-*")}}, []string{other, shared}},
		{"filters all apply", ec2.DescribeImagesInput{Filters: []types.Filter{filter("name", "golden-*"), filter("state", "available"), filter("tag:Team", "plat*")}}, []string{old, newer}},
		{"image-id filter", ec2.DescribeImagesInput{Filters: []types.Filter{filter("image-id", old)}}, []string{old}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := client.DescribeImages(c, &tc.in)
			must(t, err)
			if got := imageIDs(out.Images); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}

	// Another account's private image is invisible, even by id.
	_, err := client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{private}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{"ami-nope"}})
	wantCode(t, err, "InvalidAMIID.Malformed")
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{Filters: []types.Filter{filter("colour", "red")}})
	wantCode(t, err, "InvalidParameterValue")

	// The image's shape survives the SDK's strict deserializer.
	out, err := client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{old}})
	must(t, err)
	img := out.Images[0]
	if aws.ToString(img.CreationDate) != "2024-01-01T00:00:00.000Z" || img.State != types.ImageStateAvailable ||
		aws.ToString(img.OwnerId) != ec2sim.DefaultAccountID || img.Architecture != types.ArchitectureValuesX8664 ||
		len(img.BlockDeviceMappings) != 1 || aws.ToString(img.BlockDeviceMappings[0].Ebs.SnapshotId) == "" || len(img.Tags) != 2 {
		t.Fatalf("unexpected image %+v", img)
	}
}

func TestDescribeImagesDeprecatedAndDisabled(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	past := time.Now().Add(-time.Hour)
	ownDeprecated := s.AddImage(region, ec2sim.ImageSeed{Name: "own-deprecated", DeprecationTime: past})
	theirs := s.AddImage(region, ec2sim.ImageSeed{Name: "their-deprecated", OwnerID: "210987654321", Public: true, DeprecationTime: past})
	disabled := s.AddImage(region, ec2sim.ImageSeed{Name: "own-disabled", State: "disabled"})
	client := newEC2(s, region)
	c := ctx(t)
	names := func(in *ec2.DescribeImagesInput) []string {
		t.Helper()
		out, err := client.DescribeImages(c, in)
		must(t, err)
		return imageIDs(out.Images)
	}
	// AWS shows owners their deprecated images; others only when asked for.
	if got := names(&ec2.DescribeImagesInput{Filters: []types.Filter{filter("name", "*-deprecated")}}); !slices.Equal(got, []string{ownDeprecated}) {
		t.Fatalf("default listing: %v", got)
	}
	if got := names(&ec2.DescribeImagesInput{IncludeDeprecated: aws.Bool(true), Filters: []types.Filter{filter("name", "*-deprecated")}}); !slices.Equal(got, []string{ownDeprecated, theirs}) {
		t.Fatalf("IncludeDeprecated: %v", got)
	}
	if got := names(&ec2.DescribeImagesInput{ImageIds: []string{theirs}}); !slices.Equal(got, []string{theirs}) {
		t.Fatalf("by id: %v", got)
	}
	if got := names(&ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: []types.Filter{filter("name", "own-disabled")}}); len(got) != 0 {
		t.Fatalf("disabled image listed by default: %v", got)
	}
	if got := names(&ec2.DescribeImagesInput{IncludeDisabled: aws.Bool(true), Filters: []types.Filter{filter("name", "own-disabled")}}); !slices.Equal(got, []string{disabled}) {
		t.Fatalf("IncludeDisabled: %v", got)
	}
}

func TestDescribeImagesPaginator(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-west-2"
	var want []string
	for i := range 23 {
		want = append(want, s.AddImage(region, ec2sim.ImageSeed{Name: "page-" + string(rune('a'+i))}))
	}
	s.ResetCalls()
	client := newEC2(s, region)
	p := ec2.NewDescribeImagesPaginator(client, &ec2.DescribeImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5)})
	var got []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		must(t, err)
		if len(out.Images) > 5 {
			t.Fatalf("page of %d images exceeds MaxResults", len(out.Images))
		}
		got = append(got, imageIDs(out.Images)...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paginated %v, want %v", got, want)
	}
	// The SDK's retries of a lost connection (a loaded machine) are counted apart.
	if n := s.Calls("DescribeImages") - s.Retries("DescribeImages"); n != 5 {
		t.Fatalf("DescribeImages called %d times, want 5 pages", n)
	}
	_, err := client.DescribeImages(ctx(t), &ec2.DescribeImagesInput{ImageIds: want[:1], MaxResults: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterCombination")
}

func TestPublicImagesAndParameters(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	for _, region := range []string{"us-east-1", "ap-southeast-2"} {
		c := ctx(t)
		params := newSSM(s, region)
		images := newEC2(s, region)
		for _, tc := range []struct{ param, owner, namePrefix string }{
			{"/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id", ec2sim.CanonicalOwnerID, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64"},
			{"/aws/service/debian/release/12/latest/amd64", ec2sim.DebianOwnerID, "debian-12-amd64"},
		} {
			out, err := params.GetParameter(c, &ssm.GetParameterInput{Name: aws.String(tc.param)})
			must(t, err)
			id := aws.ToString(out.Parameter.Value)
			imgs, err := images.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{id}, Owners: []string{tc.owner}})
			must(t, err)
			if len(imgs.Images) != 1 || !strings.HasPrefix(aws.ToString(imgs.Images[0].Name), tc.namePrefix) || !aws.ToBool(imgs.Images[0].Public) {
				t.Fatalf("%s: %s -> %+v", region, tc.param, imgs.Images)
			}
		}
		// The newest jammy build is what the parameter names, so most-recent selection agrees.
		out, err := images.DescribeImages(c, &ec2.DescribeImagesInput{Owners: []string{ec2sim.CanonicalOwnerID},
			Filters: []types.Filter{filter("name", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*")}})
		must(t, err)
		if len(out.Images) != 2 {
			t.Fatalf("want two jammy builds, got %v", imageIDs(out.Images))
		}
		amazon, err := images.DescribeImages(c, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
		must(t, err)
		if len(amazon.Images) != 1 || aws.ToString(amazon.Images[0].ImageOwnerAlias) != "amazon" {
			t.Fatalf("Owners=amazon: %v", imageIDs(amazon.Images))
		}
	}
	_, err := newSSM(s, "us-east-1").GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/golden/nothing")})
	wantCode(t, err, "ParameterNotFound")
}

func TestCallerIdentityAndUnknownRegion(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{AccountID: "111122223333"})
	out, err := newSTS(s, "us-east-1").GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	must(t, err)
	if aws.ToString(out.Account) != "111122223333" || aws.ToString(out.Arn) != "arn:aws:iam::111122223333:user/simulator" {
		t.Fatalf("identity %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
	}
	_, err = newEC2(s, "xx-nowhere-1").DescribeImages(ctx(t), &ec2.DescribeImagesInput{})
	wantCode(t, err, "AuthFailure")
	_, err = newSSM(s, "xx-nowhere-1").GetParameter(ctx(t), &ssm.GetParameterInput{Name: aws.String("/x")})
	wantCode(t, err, "InvalidSignatureException")
	_, err = newSTS(s, "xx-nowhere-1").GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	wantCode(t, err, "SignatureDoesNotMatch")
}
