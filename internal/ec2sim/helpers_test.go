package ec2sim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

// fastDelays keep transitions visible to waiters without slowing the suite down.
var fastDelays = ec2sim.Delays{
	InstancePending: 30 * time.Millisecond, InstanceStopping: 30 * time.Millisecond,
	InstanceShuttingDown: 30 * time.Millisecond, ImagePending: 40 * time.Millisecond,
	CopyPending: 40 * time.Millisecond, SnapshotPending: 20 * time.Millisecond,
}

// awsConfig is what a client of the simulator configures: its URL as the endpoint and static
// credentials. The SDK's standard retryer stays in place unless the test replaces it.
func awsConfig(s *ec2sim.Server, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator", ""),
		BaseEndpoint: aws.String(s.URL()),
		Retryer: func() aws.Retryer {
			// Short backoff: throttling tests retry many times.
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 5 * time.Millisecond })
		},
	}
}

func newEC2(s *ec2sim.Server, region string) *ec2.Client {
	return ec2.NewFromConfig(awsConfig(s, region))
}

func newSSM(s *ec2sim.Server, region string) *ssm.Client {
	return ssm.NewFromConfig(awsConfig(s, region))
}

func newSTS(s *ec2sim.Server, region string) *sts.Client {
	return sts.NewFromConfig(awsConfig(s, region))
}

func newAutoScaling(s *ec2sim.Server, region string) *autoscaling.Client {
	return autoscaling.NewFromConfig(awsConfig(s, region))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// errorCode is the AWS error code the SDK surfaced, or "" for success or a non-API error.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// answerStatus is the HTTP status the server answered a call with: 200 for a success, the error
// answer's status otherwise. On a loaded machine the client may drop the connection while it reads
// an answer (aws-sdk-go-v2 issue 2737); a call made without retries then fails with an error that
// still carries the status of the answer the server gave.
func answerStatus(err error) int {
	var answer *smithyhttp.ResponseError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &answer):
		return answer.HTTPStatusCode()
	default:
		return 0
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected error %s, got success", code)
	}
	if got := errorCode(err); got != code {
		t.Fatalf("expected error code %s, got %q (%v)", code, got, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func imageIDs(images []ec2Image) []string {
	var out []string
	for _, img := range images {
		out = append(out, aws.ToString(img.ImageId))
	}
	return out
}

func ssmGet(name string) *ssm.GetParameterInput {
	return &ssm.GetParameterInput{Name: aws.String(name)}
}

func staticCreds(key, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(key, secret, token)
}
