package ec2sim_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// Calls are counted per SDK application id (the User-Agent's app/<id>) and IAM action name,
// failed ones included, and a test's log lands in the folder GOLDEN_SIM_CALLS_DIR names.
func TestCallsByCaller(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ec2sim.CallsLogEnv, dir)

	t.Run("sim", func(t *testing.T) {
		s := ec2sim.StartTest(t, ec2sim.Options{})
		cfg := awsConfig(s, "us-east-1")
		cfg.AppID = "golden-ebs"
		if _, err := ec2.NewFromConfig(cfg).DescribeImages(ctx(t), &ec2.DescribeImagesInput{Owners: []string{"self"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := ssm.NewFromConfig(cfg).GetParameter(ctx(t), &ssm.GetParameterInput{Name: ptr("/no/such/parameter")}); err == nil {
			t.Fatal("GetParameter of a missing parameter succeeded")
		}
		// Tags on create need ec2:CreateTags (and a tagged parameter ssm:AddTagsToResource) too.
		if _, err := ec2.NewFromConfig(cfg).CreateSecurityGroup(ctx(t), &ec2.CreateSecurityGroupInput{
			GroupName: ptr("tagged"), Description: ptr("tagged on create"),
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: ptr("a"), Value: ptr("b")}}}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := ssm.NewFromConfig(cfg).PutParameter(ctx(t), &ssm.PutParameterInput{
			Name: ptr("/golden/tagged"), Value: ptr("v"), Type: ssmtypes.ParameterTypeString,
			Tags: []ssmtypes.Tag{{Key: ptr("a"), Value: ptr("b")}},
		}); err != nil {
			t.Fatal(err)
		}
		other := awsConfig(s, "eu-west-1")
		if _, err := sts.NewFromConfig(other).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}

		got := s.CallsByCaller()
		want := map[string]map[string]int{
			"golden-ebs": {"ec2:DescribeImages": 1, "ssm:GetParameter": 1, "ec2:CreateSecurityGroup": 1, "ec2:CreateTags": 1,
				"ssm:PutParameter": 1, "ssm:AddTagsToResource": 1},
			"": {"sts:GetCallerIdentity": 1},
		}
		if len(got) != len(want) {
			t.Fatalf("callers %v, want %v", got, want)
		}
		for caller, actions := range want {
			for action, n := range actions {
				if got[caller][action] != n || len(got[caller]) != len(actions) {
					t.Errorf("caller %q: %v, want %v", caller, got[caller], actions)
				}
			}
		}
	})

	logs, err := ec2sim.ReadCallerLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 1 || logs[0].Test != "TestCallsByCaller/sim" || logs[0].Callers["golden-ebs"]["ec2:DescribeImages"] != 1 {
		t.Fatalf("logs in %s: %+v", dir, logs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in %s, want 1", len(entries), dir)
	}
}

func ptr(s string) *string { return &s }
