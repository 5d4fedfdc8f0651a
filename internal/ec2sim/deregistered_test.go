package ec2sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// TestDeregisteredImageFadesAsAWSDocuments: a deregistered image is listed in state deregistered
// for a while, then its id gives empty results, then it is not found; meanwhile a second
// DeregisterImage (a racing prune) and other calls naming it get InvalidAMIID.Unavailable, and its
// snapshots can be deleted at once.
func TestDeregisteredImageFadesAsAWSDocuments(t *testing.T) {
	// The phases are timed. On a machine too loaded to make a phase's calls within it, the run
	// is made again with longer phases: the test checks the order of the phases, not the
	// machine's speed.
	for phase := 150 * time.Millisecond; !deregisteredImageFades(t, phase); phase *= 2 {
		if phase >= 5*time.Second {
			t.Fatalf("the calls of a phase took longer than %s", phase)
		}
		t.Logf("the calls of a phase took longer than %s here; again with longer phases", phase)
	}
}

// deregisteredImageFades runs the test with both intervals set to phase. It returns false, before
// checking what it saw, when a phase's calls did not all happen within the phase.
func deregisteredImageFades(t *testing.T, phase time.Duration) bool {
	s := ec2sim.StartTest(t, ec2sim.Options{Delays: ec2sim.Delays{DeregisteredListed: phase, DeregisteredKnown: phase}})
	region := "us-east-1"
	id := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-old"})
	img, _ := s.Image(region, id)
	snap := img.BlockDevices[0].SnapshotID
	client := newEC2(s, region)
	c := ctx(t)

	// The server stamps the deregistration between these two instants.
	sent := time.Now()
	_, err := client.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	must(t, err)
	answered := time.Now()
	out, errOut := client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	listing, errListing := client.DescribeImages(c, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	_, errAgain := client.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	_, errDeprecate := client.EnableImageDeprecation(c, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(time.Now().Add(time.Hour))})
	if time.Since(sent) >= phase {
		return false
	}
	must(t, errOut)
	if len(out.Images) != 1 || out.Images[0].State != types.ImageStateDeregistered {
		t.Fatalf("right after DeregisterImage: %+v", out.Images)
	}
	must(t, errListing)
	if len(listing.Images) != 1 || listing.Images[0].State != types.ImageStateDeregistered {
		t.Fatalf("listing right after DeregisterImage: %+v", listing.Images)
	}
	wantCode(t, errAgain, "InvalidAMIID.Unavailable")
	wantCode(t, errDeprecate, "InvalidAMIID.Unavailable")
	_, err = client.DeleteSnapshot(c, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(snap)})
	must(t, err)

	time.Sleep(time.Until(answered.Add(phase)))
	out, errOut = client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	listing, errListing = client.DescribeImages(c, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	_, errAgain = client.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	if time.Since(sent) >= 2*phase {
		return false
	}
	must(t, errOut)
	if len(out.Images) != 0 {
		t.Fatalf("after the listed interval: %+v", out.Images)
	}
	must(t, errListing)
	if len(listing.Images) != 0 {
		t.Fatalf("listing after the listed interval: %+v", listing.Images)
	}
	wantCode(t, errAgain, "InvalidAMIID.Unavailable")

	time.Sleep(time.Until(answered.Add(2 * phase)))
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = client.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "InvalidAMIID.NotFound")
	return true
}

// TestDeregisteredImageKnownWhileInstancesRemain: the id stays known (empty results) as long as
// an instance launched from it is not terminated.
func TestDeregisteredImageKnownWhileInstancesRemain(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	region := "us-east-1"
	id := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-used"})
	s.AddInstance(region, ec2sim.InstanceSeed{ImageID: id})
	client := newEC2(s, region)
	c := ctx(t)
	_, err := client.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	must(t, err)
	out, err := client.DescribeImages(c, &ec2.DescribeImagesInput{ImageIds: []string{id}})
	must(t, err)
	if len(out.Images) != 0 {
		t.Fatalf("a deregistered image with an instance: %+v", out.Images)
	}
	_, err = client.DeregisterImage(c, &ec2.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "InvalidAMIID.Unavailable")
}

// TestDeprecationTimeMustBeAhead: EC2 refuses a deprecation time that is not in the future, after
// rounding it to the minute.
func TestDeprecationTimeMustBeAhead(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	id := s.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-dep"})
	client := newEC2(s, "us-east-1")
	c := ctx(t)
	_, err := client.EnableImageDeprecation(c, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(time.Now().Add(-time.Minute))})
	wantCode(t, err, "InvalidParameterValue")
	// Now rounds to a minute boundary at most 30s away; it is never ahead.
	_, err = client.EnableImageDeprecation(c, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(time.Now().UTC().Truncate(time.Minute))})
	wantCode(t, err, "InvalidParameterValue")
	at := time.Now().UTC().Add(2 * time.Minute).Truncate(time.Minute)
	_, err = client.EnableImageDeprecation(c, &ec2.EnableImageDeprecationInput{ImageId: aws.String(id), DeprecateAt: aws.Time(at)})
	must(t, err)
	if img, _ := s.Image("us-east-1", id); !img.DeprecationTime.Equal(at) {
		t.Fatalf("deprecation time %s, want %s", img.DeprecationTime, at)
	}
}

// TestImageReferencesAtMostTenIDs: DescribeImageReferences takes 1 to 10 image ids.
func TestImageReferencesAtMostTenIDs(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	var ids []string
	for i := range 11 {
		ids = append(ids, s.AddImage("us-east-1", ec2sim.ImageSeed{Name: "golden-ref-" + string(rune('a'+i))}))
	}
	client := newEC2(s, "us-east-1")
	c := ctx(t)
	_, err := client.DescribeImageReferences(c, &ec2.DescribeImageReferencesInput{ImageIds: ids, IncludeAllResourceTypes: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = client.DescribeImageReferences(c, &ec2.DescribeImageReferencesInput{ImageIds: ids[:10], IncludeAllResourceTypes: aws.Bool(true)})
	must(t, err)
}

// TestImageReferencesVersionDepth: version-depth takes 1 to 10,000 (ResourceTypeOption in the EC2
// API reference) and counts back from a template's latest version.
func TestImageReferencesVersionDepth(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	old := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-old"})
	current := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-current"})
	s.AddLaunchTemplate(region, ec2sim.LaunchTemplateSeed{Name: "web", Versions: []string{old, current, current}, DefaultVersion: 1})
	client := newEC2(s, region)
	c := ctx(t)
	refs := func(depth string) (int, error) {
		out, err := client.DescribeImageReferences(c, &ec2.DescribeImageReferencesInput{ImageIds: []string{old},
			ResourceTypes: []types.ResourceTypeRequest{{ResourceType: types.ImageReferenceResourceTypeEc2LaunchTemplate,
				ResourceTypeOptions: []types.ResourceTypeOption{{OptionName: types.ImageReferenceOptionNameVersionDepth, OptionValues: []string{depth}}}}}})
		if err != nil {
			return 0, err
		}
		return len(out.ImageReferences), nil
	}
	// The default version 1 is not among the two latest.
	if n, err := refs("2"); err != nil || n != 0 {
		t.Fatalf("depth 2: %d references, %v; want 0", n, err)
	}
	if n, err := refs("10000"); err != nil || n != 1 {
		t.Fatalf("depth 10000: %d references, %v; want 1", n, err)
	}
	_, err := refs("10001")
	wantCode(t, err, "InvalidParameterValue")
}

// TestWithheldAction: an action a region does not offer answers InvalidAction there, as EC2 does
// for an action it does not know, and works in the other regions.
func TestWithheldAction(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{Withheld: map[string][]string{"eu-west-1": {"DescribeImageReferences"}}})
	in := func(region string) error {
		id := s.AddImage(region, ec2sim.ImageSeed{Name: "golden-withheld"})
		_, err := newEC2(s, region).DescribeImageReferences(ctx(t), &ec2.DescribeImageReferencesInput{ImageIds: []string{id}, IncludeAllResourceTypes: aws.Bool(true)})
		return err
	}
	wantCode(t, in("eu-west-1"), "InvalidAction")
	must(t, in("us-east-1"))
}

// TestDescribeParametersRefusesUnknownFilterKey: a filter key SSM does not know is an error, not
// a filter that silently matches nothing.
func TestDescribeParametersRefusesUnknownFilterKey(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	client := newSSM(s, "us-east-1")
	c := ctx(t)
	_, err := client.PutParameter(c, &ssm.PutParameterInput{Name: aws.String("/golden/x"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
	must(t, err)
	_, err = client.DescribeParameters(c, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("DataTyp"), Values: []string{"text"}}}})
	wantCode(t, err, "InvalidFilterKey")
	out, err := client.DescribeParameters(c, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("Tier"), Values: []string{"Standard"}}}})
	must(t, err)
	if len(out.Parameters) != 1 || !strings.HasPrefix(aws.ToString(out.Parameters[0].Name), "/golden/") {
		t.Fatalf("Tier filter: %+v", out.Parameters)
	}
}
