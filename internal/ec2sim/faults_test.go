package ec2sim_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/golden-ami/packer-plugin-golden/internal/ec2sim"
)

func noRetries(o *ec2.Options) { o.Retryer = aws.NopRetryer{} }

func TestThrottlingIsRetriedBySDK(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	s.Throttle(50, "DescribeImages")
	client := newEC2(s, "us-east-1")
	// The standard retryer, with the attempts a caller configures for a throttled account.
	moreAttempts := func(o *ec2.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 8) }
	for range 10 {
		_, err := client.DescribeImages(ctx(t), &ec2.DescribeImagesInput{Owners: []string{"amazon"}}, moreAttempts)
		must(t, err)
	}
	// Throttled attempts are counted too: more calls than successes shows the SDK retried.
	if n := s.Calls("DescribeImages"); n <= 10 {
		t.Fatalf("DescribeImages called %d times; 50%% throttling should force retries", n)
	}
	// The SDK marks its retries, so the calls the client code made can be told apart.
	if made := s.Calls("DescribeImages") - s.Retries("DescribeImages"); made != 10 {
		t.Fatalf("calls %d - retries %d = %d, want the 10 the client made",
			s.Calls("DescribeImages"), s.Retries("DescribeImages"), made)
	}
	// Other actions are untouched.
	if _, err := client.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{}, noRetries); answerStatus(err) != http.StatusOK {
		t.Fatal(err)
	}
}

func TestThrottlingWithoutRetries(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	s.Throttle(100)
	c := ctx(t)
	_, err := newEC2(s, "us-east-1").DescribeImages(c, &ec2.DescribeImagesInput{}, noRetries)
	wantCode(t, err, "RequestLimitExceeded")
	_, err = newSSM(s, "us-east-1").GetParameter(c, ssmGet("/x"), func(o *ssm.Options) { o.Retryer = aws.NopRetryer{} })
	wantCode(t, err, "ThrottlingException")
	_, err = newAutoScaling(s, "us-east-1").DescribeAutoScalingGroups(c, &autoscaling.DescribeAutoScalingGroupsInput{},
		func(o *autoscaling.Options) { o.Retryer = aws.NopRetryer{} })
	wantCode(t, err, "Throttling")
	s.Throttle(0)
	// With throttling off, the SDK's own retryer may retry only a dropped connection (the race of
	// aws-sdk-go-v2 issue 2737, which server.go makes rare, not impossible): the call must succeed.
	_, err = newEC2(s, "us-east-1").DescribeImages(c, &ec2.DescribeImagesInput{})
	must(t, err)
	if n := s.Calls("DescribeImages") - s.Retries("DescribeImages"); n != 2 {
		t.Errorf("DescribeImages made %d times, want 2", n)
	}
}

// The throttled calls follow a fixed seed, so a run is reproducible.
func TestThrottleIsDeterministic(t *testing.T) {
	pattern := func() string {
		s := ec2sim.StartTest(t, ec2sim.Options{})
		s.Throttle(30)
		client := newEC2(s, "us-east-1")
		var b strings.Builder
		for range 40 {
			_, err := client.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{}, noRetries)
			switch answerStatus(err) {
			case http.StatusOK:
				b.WriteByte('.')
			case http.StatusServiceUnavailable:
				b.WriteByte('x')
			default:
				t.Fatalf("DescribeRegions: want success or RequestLimitExceeded, got %v", err)
			}
		}
		if n := s.Calls("DescribeRegions"); n != 40 {
			t.Errorf("DescribeRegions reached the throttle %d times for 40 calls", n)
		}
		return b.String()
	}
	first, second := pattern(), pattern()
	if first != second || !strings.Contains(first, "x") || !strings.Contains(first, ".") {
		t.Fatalf("throttle patterns differ or are degenerate:\n%s\n%s", first, second)
	}
}

func TestFailNth(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	client := newEC2(s, "us-east-1")
	c := ctx(t)
	s.FailNth("DescribeImages", 2, "UnauthorizedOperation", "You are not authorized to perform this operation.")
	_, err := client.DescribeImages(c, &ec2.DescribeImagesInput{})
	must(t, err)
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{})
	wantCode(t, err, "UnauthorizedOperation")
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{})
	must(t, err)

	// A server-side fault is retried by the standard retryer and then succeeds.
	s.ResetCalls()
	s.FailNth("DescribeImages", 1, "InternalError", "An internal error has occurred")
	_, err = client.DescribeImages(c, &ec2.DescribeImagesInput{})
	must(t, err)
	if n := s.Calls("DescribeImages"); n < 2 {
		t.Fatalf("want a failed call and its retry, got %d calls", n)
	}
	s.FailNth("GetParameter", 1, "ParameterNotFound", "Parameter /x not found.")
	_, err = newSSM(s, "us-east-1").GetParameter(c, ssmGet("/aws/service/debian/release/12/latest/amd64"))
	wantCode(t, err, "ParameterNotFound")
	counts := s.CallCounts()
	if counts["DescribeImages"] < 2 || counts["GetParameter"] != 1 {
		t.Fatalf("counts %v", counts)
	}
	s.ResetCalls()
	if len(s.CallCounts()) != 0 {
		t.Fatal("ResetCalls left counts")
	}
}

func TestLatency(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	s.SetLatency(60 * time.Millisecond)
	start := time.Now()
	_, err := newEC2(s, "us-east-1").DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{})
	must(t, err)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Fatalf("answered in %s despite 60ms latency", d)
	}
}

func TestAssumeRole(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	c := ctx(t)
	out, err := newSTS(s, "eu-west-1").AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/golden-builder"),
		RoleSessionName: aws.String("packer"), DurationSeconds: aws.Int32(900), ExternalId: aws.String("ext")})
	must(t, err)
	creds := out.Credentials
	if !strings.HasPrefix(aws.ToString(creds.AccessKeyId), "ASIA") || aws.ToString(creds.SessionToken) == "" ||
		time.Until(aws.ToTime(creds.Expiration)) > 16*time.Minute {
		t.Fatalf("credentials %+v", creds)
	}
	// The temporary credentials identify the role session.
	cfg := awsConfig(s, "eu-west-1")
	cfg.Credentials = staticCreds(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken))
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(c, &sts.GetCallerIdentityInput{})
	must(t, err)
	if aws.ToString(who.Arn) != "arn:aws:sts::123456789012:assumed-role/golden-builder/packer" {
		t.Fatalf("assumed identity %s", aws.ToString(who.Arn))
	}
	_, err = newSTS(s, "eu-west-1").AssumeRole(c, &sts.AssumeRoleInput{RoleArn: aws.String("not-an-arn"), RoleSessionName: aws.String("packer")})
	wantCode(t, err, "ValidationError")
}

func TestHealthAndUnsupported(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	resp, err := http.Get(s.URL() + "/")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health check status %d", resp.StatusCode)
	}
	_, err = newEC2(s, "us-east-1").DescribeVolumesModifications(ctx(t), &ec2.DescribeVolumesModificationsInput{})
	wantCode(t, err, "InvalidAction")
}

func TestClientTokenAndDryRun(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "idem"})
	client := newEC2(s, region)
	in := &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String("build-42")}
	first, err := client.RunInstances(ctx(t), in)
	must(t, err)
	again, err := client.RunInstances(ctx(t), in)
	must(t, err)
	if aws.ToString(first.Instances[0].InstanceId) != aws.ToString(again.Instances[0].InstanceId) || len(s.Instances(region)) != 1 {
		t.Fatalf("a repeated client token launched again: %d instances", len(s.Instances(region)))
	}
	_, err = client.DeregisterImage(ctx(t), &ec2.DeregisterImageInput{ImageId: aws.String(ami), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	if _, ok := s.Image(region, ami); !ok {
		t.Fatal("a dry run deregistered the image")
	}
}

// Calls with large bodies (long filter lists) must reach the server once each: the SDK's
// client can drop a connection when the answer comes back too fast, and retry.
func TestLargeRequestsAreCountedOnce(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{Logf: func(string, ...any) {}})
	const region = "us-east-1"
	ids := make([]string, 195)
	for i := range ids {
		ids[i] = fmt.Sprintf("ami-%017x", i)
	}
	for i := range 100 {
		s.AddInstance(region, ec2sim.InstanceSeed{ImageID: ids[i]})
	}
	client := newEC2(s, region)
	for range 60 {
		_, err := client.DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{Filters: []types.Filter{filter("image-id", ids...)}})
		must(t, err)
	}
	// A server that answers before reading the body makes the SDK retry nearly every such call;
	// on a loaded machine a connection can still be lost now and then, and the SDK's retry is
	// then counted apart (Retries), so each call is counted once either way.
	n, retried := s.Calls("DescribeInstances"), s.Retries("DescribeInstances")
	if n-retried != 60 {
		t.Fatalf("60 calls arrived as %d requests, %d of them retries", n, retried)
	}
	if retried > 6 {
		t.Fatalf("%d of 60 large calls were retried: the server drops connections it answers", retried)
	}
}

// dropFirstAnswer is a client transport that loses the first answer of every request it carries
// after the server has written it, as a connection dropped mid-response does.
type dropFirstAnswer struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (d *dropFirstAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	inv := r.Header.Get("Amz-Sdk-Invocation-Id")
	d.mu.Lock()
	first := !d.seen[inv]
	d.seen[inv] = true
	d.mu.Unlock()
	if first {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, nil
}

// An attempt the server answered but the client never received is sent again by the SDK with
// the same invocation id: it gets the same answer, the action does not run twice (one instance,
// not two), and the call is counted once.
func TestRedeliveredCallRunsOnce(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "eu-west-1"
	cfg := awsConfig(s, region)
	cfg.HTTPClient = &http.Client{Transport: &dropFirstAnswer{seen: map[string]bool{}}}
	client := ec2.NewFromConfig(cfg)
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "redelivery"})
	s.ResetCalls()
	out, err := client.RunInstances(ctx(t), &ec2.RunInstancesInput{ImageId: aws.String(ami), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	must(t, err)
	if n, r := s.Calls("RunInstances"), s.Redeliveries("RunInstances"); n != 1 || r != 1 {
		t.Errorf("RunInstances counted %d times with %d redeliveries, want 1 and 1", n, r)
	}
	listed, err := newEC2(s, region).DescribeInstances(ctx(t), &ec2.DescribeInstancesInput{})
	must(t, err)
	var ids []string
	for _, r := range listed.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	if len(ids) != 1 || ids[0] != aws.ToString(out.Instances[0].InstanceId) {
		t.Errorf("instances %v after one RunInstances answered %s", ids, aws.ToString(out.Instances[0].InstanceId))
	}
	// A retry after an error answer still runs the action and counts as a retry.
	s.ResetCalls()
	s.FailNth("DescribeImages", 1, "RequestLimitExceeded", "Request limit exceeded.")
	_, err = newEC2(s, region).DescribeImages(ctx(t), &ec2.DescribeImagesInput{Owners: []string{"self"}})
	must(t, err)
	if n, r, d := s.Calls("DescribeImages"), s.Retries("DescribeImages"), s.Redeliveries("DescribeImages"); n != 2 || r != 1 || d != 0 {
		t.Errorf("a throttled call and its retry: %d calls, %d retries, %d redeliveries, want 2, 1, 0", n, r, d)
	}
}

// OnCall runs its function on exactly the n-th next call of the action, before the answer.
func TestOnCallFiresAtTheNthCall(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	client := newEC2(s, "us-east-1")
	_, err := client.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{})
	must(t, err)
	var fired []int
	s.OnCall("DescribeRegions", 2, func() { fired = append(fired, s.Calls("DescribeRegions")) })
	for range 4 {
		_, err := client.DescribeRegions(ctx(t), &ec2.DescribeRegionsInput{})
		must(t, err)
	}
	if len(fired) != 1 || fired[0] != 3 {
		t.Fatalf("fired at calls %v, want once, at the 3rd call in all (the 2nd after OnCall)", fired)
	}
}

// OnCall's function runs once the call has taken effect and before its answer: a client
// interrupted from it has launched an instance it never hears of, as an interrupt in flight does
// on EC2.
func TestOnCallFiresAfterTheCallTookEffect(t *testing.T) {
	s := ec2sim.StartTest(t, ec2sim.Options{})
	const region = "us-east-1"
	ami := s.AddImage(region, ec2sim.ImageSeed{Name: "in-flight"})
	seen := -1
	s.OnCall("RunInstances", 1, func() { seen = len(s.Instances(region)) })
	_, err := newEC2(s, region).RunInstances(ctx(t), &ec2.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	must(t, err)
	if seen != 1 {
		t.Fatalf("OnCall saw %d instances, want 1: the launch had not taken effect", seen)
	}
}
