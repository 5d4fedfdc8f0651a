package awsconf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// isolateEnv clears every variable the SDK's default chain reads and points the shared files at an
// empty directory, so a test sees only what it sets itself. Nothing may reach a real endpoint or the
// instance metadata service.
func isolateEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return dir
}

func writeSharedCredentials(t *testing.T, profiles map[string]string) {
	t.Helper()
	var b strings.Builder
	for name, key := range profiles {
		fmt.Fprintf(&b, "[%s]\naws_access_key_id = %s\naws_secret_access_key = secret-%s\n\n", name, key, key)
	}
	if err := os.WriteFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPrepareValidation(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		config   AccessConfig
		wantErrs []string // substrings, one per expected error, in order
	}{
		{name: "minimal", config: AccessConfig{Region: "us-east-1"}},
		{name: "gov and china regions", config: AccessConfig{Region: "us-gov-west-1"}},
		{name: "region from AWS_REGION", env: map[string]string{"AWS_REGION": "eu-west-1"}},
		{name: "region from AWS_DEFAULT_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "cn-north-1"}},
		{name: "region missing", wantErrs: []string{"region: required"}},
		{name: "unknown region", config: AccessConfig{Region: "us-east-9"}, wantErrs: []string{`region: unknown region "us-east-9"`}},
		{name: "unknown region allowed", config: AccessConfig{Region: "xx-newplace-1", SkipRegionValidation: true}},
		{name: "skip validation still checks the shape", config: AccessConfig{Region: "US East", SkipRegionValidation: true}, wantErrs: []string{"region: \"US East\" is not a region name"}},
		{name: "keys together", config: AccessConfig{Region: "us-east-1", AccessKey: "AKID", SecretKey: "s", Token: "t"}},
		{name: "access key alone", config: AccessConfig{Region: "us-east-1", AccessKey: "AKID"}, wantErrs: []string{"access_key and secret_key"}},
		{name: "secret key alone", config: AccessConfig{Region: "us-east-1", SecretKey: "s"}, wantErrs: []string{"access_key and secret_key"}},
		{name: "token without keys", config: AccessConfig{Region: "us-east-1", Token: "t"}, wantErrs: []string{"token: requires access_key"}},
		{name: "role", config: AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::111122223333:role/path/builder", Duration: time.Hour}}},
		{name: "gov role", config: AccessConfig{Region: "us-gov-west-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws-us-gov:iam::111122223333:role/builder"}}},
		{name: "role ARN of a user", config: AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::111122223333:user/bob"}}, wantErrs: []string{"assume_role.role_arn: \"arn:aws:iam::111122223333:user/bob\" is not an IAM role ARN"}},
		{name: "role ARN with short account", config: AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::1234:role/x"}}, wantErrs: []string{"assume_role.role_arn"}},
		{name: "duration too short", config: AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::111122223333:role/b", Duration: 14 * time.Minute}}, wantErrs: []string{"assume_role.duration: 14m0s is outside 15m0s..12h0m0s"}},
		{name: "duration too long", config: AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::111122223333:role/b", Duration: 13 * time.Hour}}, wantErrs: []string{"assume_role.duration"}},
		{name: "duration bounds are inclusive", config: AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::111122223333:role/b", Duration: 12 * time.Hour}}},
		{name: "assume_role options without ARN", config: AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{ExternalID: "x"}}, wantErrs: []string{"assume_role.role_arn: required"}},
		{name: "negative retries", config: AccessConfig{Region: "us-east-1", MaxRetries: -1}, wantErrs: []string{"max_retries: must be 0 or more"}},
		{name: "endpoint without scheme", config: AccessConfig{Region: "us-east-1", CustomEndpointEC2: "ec2.example.com"}, wantErrs: []string{"custom_endpoint_ec2"}},
		{
			name:     "every error is reported",
			config:   AccessConfig{Region: "nowhere", AccessKey: "A", MaxRetries: -2, AssumeRole: AssumeRoleConfig{RoleARN: "role"}},
			wantErrs: []string{"region:", "access_key and secret_key", "assume_role.role_arn", "max_retries"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := tt.config
			errs := c.Prepare()
			if len(errs) != len(tt.wantErrs) {
				t.Fatalf("Prepare() = %v, want %d errors containing %q", errs, len(tt.wantErrs), tt.wantErrs)
			}
			for i, want := range tt.wantErrs {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
			if len(errs) == 0 && c.Region == "" {
				t.Errorf("Prepare left the region empty")
			}
		})
	}
}

func TestPrepareRegionEnvOrder(t *testing.T) {
	isolateEnv(t)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_DEFAULT_REGION", "us-west-2")
	c := AccessConfig{}
	if errs := c.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if c.Region != "eu-west-1" {
		t.Errorf("region = %q, want AWS_REGION to win over AWS_DEFAULT_REGION", c.Region)
	}
	explicit := AccessConfig{Region: "ap-south-1"}
	explicit.Prepare()
	if explicit.Region != "ap-south-1" {
		t.Errorf("region = %q, want the explicit option to win over the environment", explicit.Region)
	}
}

func TestPrepareDefaultsSessionName(t *testing.T) {
	isolateEnv(t)
	c := AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{RoleARN: "arn:aws:iam::111122223333:role/b"}}
	if errs := c.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if c.AssumeRole.SessionName != DefaultSessionName {
		t.Errorf("session name = %q, want %q", c.AssumeRole.SessionName, DefaultSessionName)
	}
}

func TestCredentialPrecedence(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		config     AccessConfig
		wantKey    string
		wantSecret string
		wantToken  string
	}{
		{
			name:    "environment chain",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env"},
			wantKey: "AKIDENV", wantSecret: "secret-env",
		},
		{
			name:    "AWS_PROFILE from the environment",
			env:     map[string]string{"AWS_PROFILE": "team"},
			wantKey: "AKIDTEAM", wantSecret: "secret-AKIDTEAM",
		},
		{
			name:    "profile option over environment keys",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env"},
			config:  AccessConfig{Profile: "team"},
			wantKey: "AKIDTEAM", wantSecret: "secret-AKIDTEAM",
		},
		{
			name:    "profile option over AWS_PROFILE",
			env:     map[string]string{"AWS_PROFILE": "other"},
			config:  AccessConfig{Profile: "team"},
			wantKey: "AKIDTEAM", wantSecret: "secret-AKIDTEAM",
		},
		{
			name:    "explicit keys over profile and environment",
			env:     map[string]string{"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_PROFILE": "other"},
			config:  AccessConfig{Profile: "team", AccessKey: "AKIDEXPLICIT", SecretKey: "secret-explicit", Token: "session-token"},
			wantKey: "AKIDEXPLICIT", wantSecret: "secret-explicit", wantToken: "session-token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			writeSharedCredentials(t, map[string]string{"team": "AKIDTEAM", "other": "AKIDOTHER"})
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c := tt.config
			c.Region = "us-east-1"
			if errs := c.Prepare(); len(errs) != 0 {
				t.Fatal(errs)
			}
			cfg, err := c.Config(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tt.wantKey || creds.SecretAccessKey != tt.wantSecret || creds.SessionToken != tt.wantToken {
				t.Errorf("credentials = %q/%q/%q, want %q/%q/%q", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken,
					tt.wantKey, tt.wantSecret, tt.wantToken)
			}
		})
	}
}

func TestUnknownProfileFails(t *testing.T) {
	isolateEnv(t)
	writeSharedCredentials(t, map[string]string{"team": "AKIDTEAM"})
	c := AccessConfig{Region: "us-east-1", Profile: "missing"}
	c.Prepare()
	_, err := c.Config(context.Background())
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Config() error = %v, want one naming the missing profile", err)
	}
}

// recorder is a local stand-in for AWS endpoints: it records which server got which action, and
// answers with the smallest bodies the SDK deserializers accept.
type recorder struct {
	mu    sync.Mutex
	calls []string // "<server> <action>"
	auth  []string // Authorization headers, in call order
	form  []url.Values
	// throttle answers that many EC2 calls with RequestLimitExceeded before succeeding.
	throttle int
}

func (r *recorder) server(t *testing.T, name string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		if target := req.Header.Get("X-Amz-Target"); target != "" {
			action = target[strings.LastIndex(target, ".")+1:]
		}
		r.mu.Lock()
		r.calls = append(r.calls, name+" "+action)
		r.auth = append(r.auth, req.Header.Get("Authorization"))
		r.form = append(r.form, form)
		throttled := action == "DescribeImages" && r.throttle > 0
		if throttled {
			r.throttle--
		}
		r.mu.Unlock()
		switch {
		case throttled:
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r1</RequestID></Response>`)
		case action == "DescribeImages":
			io.WriteString(w, `<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r1</requestId><imagesSet/></DescribeImagesResponse>`)
		case action == "GetParameter":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			io.WriteString(w, `{"Parameter":{"Name":"/p","Type":"String","Value":"ami-0123456789abcdef0","Version":1}}`)
		case action == "DescribeKey":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			io.WriteString(w, `{"KeyMetadata":{"KeyId":"0a1b2c3d-1111-2222-3333-444455556666","KeyManager":"CUSTOMER","Enabled":true}}`)
		case action == "AssumeRole":
			expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey><SessionToken>assumed-token</SessionToken><Expiration>%s</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/builder/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></AssumeRoleResponse>`, expires)
		default:
			t.Errorf("%s: unexpected action %q", name, action)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func callEC2AndSSM(t *testing.T, c *AccessConfig) {
	t.Helper()
	ctx := context.Background()
	ec2c, err := c.EC2Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{}); err != nil {
		t.Fatal(err)
	}
	ssmc, err := c.SSMClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/p")}); err != nil {
		t.Fatal(err)
	}
}

func TestEndpointPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		general bool // AWS_ENDPOINT_URL set
		ec2Env  bool // AWS_ENDPOINT_URL_EC2 set
		custom  bool // custom_endpoint_ec2 set
		wantEC2 string
		wantSSM string
	}{
		{name: "AWS_ENDPOINT_URL for every service", general: true, wantEC2: "general", wantSSM: "general"},
		{name: "AWS_ENDPOINT_URL_EC2 over AWS_ENDPOINT_URL", general: true, ec2Env: true, wantEC2: "ec2env", wantSSM: "general"},
		{name: "custom_endpoint_ec2 over both, EC2 only", general: true, ec2Env: true, custom: true, wantEC2: "custom", wantSSM: "general"},
		{name: "custom_endpoint_ec2 over AWS_ENDPOINT_URL", general: true, custom: true, wantEC2: "custom", wantSSM: "general"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			rec := &recorder{}
			c := AccessConfig{Region: "us-east-1"}
			if tt.general {
				t.Setenv("AWS_ENDPOINT_URL", rec.server(t, "general").URL)
			}
			if tt.ec2Env {
				t.Setenv("AWS_ENDPOINT_URL_EC2", rec.server(t, "ec2env").URL)
			}
			if tt.custom {
				c.CustomEndpointEC2 = rec.server(t, "custom").URL
			}
			if errs := c.Prepare(); len(errs) != 0 {
				t.Fatal(errs)
			}
			callEC2AndSSM(t, &c)
			want := []string{tt.wantEC2 + " DescribeImages", tt.wantSSM + " GetParameter"}
			if got := rec.snapshot(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("calls = %q, want %q", got, want)
			}
		})
	}
}

// TestKMSClient: KMS follows AWS_ENDPOINT_URL_KMS or AWS_ENDPOINT_URL, never custom_endpoint_ec2,
// and signs for the region ForRegion names.
func TestKMSClient(t *testing.T) {
	for _, tt := range []struct {
		name   string
		kmsEnv bool // AWS_ENDPOINT_URL_KMS set
		want   string
	}{
		{name: "AWS_ENDPOINT_URL", want: "general DescribeKey"},
		{name: "AWS_ENDPOINT_URL_KMS over AWS_ENDPOINT_URL", kmsEnv: true, want: "kmsenv DescribeKey"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			rec := &recorder{}
			t.Setenv("AWS_ENDPOINT_URL", rec.server(t, "general").URL)
			if tt.kmsEnv {
				t.Setenv("AWS_ENDPOINT_URL_KMS", rec.server(t, "kmsenv").URL)
			}
			c := AccessConfig{Region: "us-east-1", CustomEndpointEC2: rec.server(t, "custom").URL}
			if errs := c.Prepare(); len(errs) != 0 {
				t.Fatal(errs)
			}
			client, err := c.ForRegion("eu-west-1").KMSClient(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			out, err := client.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String("alias/golden")})
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.snapshot(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("calls = %q, want %q", got, tt.want)
			}
			if auth := rec.auth[0]; !strings.Contains(auth, "/eu-west-1/kms/aws4_request") {
				t.Errorf("signed for %q, want eu-west-1 and kms", auth)
			}
			if out.KeyMetadata == nil || string(out.KeyMetadata.KeyManager) != "CUSTOMER" {
				t.Errorf("key metadata %+v", out.KeyMetadata)
			}
		})
	}
}

func TestAssumeRole(t *testing.T) {
	isolateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDBASE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	rec := &recorder{}
	t.Setenv("AWS_ENDPOINT_URL", rec.server(t, "aws").URL)
	c := AccessConfig{Region: "us-east-1", AssumeRole: AssumeRoleConfig{
		RoleARN:    "arn:aws:iam::111122223333:role/builder",
		ExternalID: "ext-42",
		Duration:   2 * time.Hour,
	}}
	if errs := c.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	ctx := context.Background()
	for _, region := range []string{"us-east-1", "eu-west-1", "us-west-2"} {
		client, err := c.ForRegion(region).EC2Client(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{}); err != nil {
			t.Fatal(err)
		}
	}

	calls := rec.snapshot()
	want := "aws AssumeRole,aws DescribeImages,aws DescribeImages,aws DescribeImages"
	if strings.Join(calls, ",") != want {
		t.Fatalf("calls = %q, want %q (one AssumeRole shared by every region)", calls, want)
	}
	assume := rec.form[0]
	for field, wantValue := range map[string]string{
		"RoleArn":         "arn:aws:iam::111122223333:role/builder",
		"ExternalId":      "ext-42",
		"RoleSessionName": DefaultSessionName,
		"DurationSeconds": "7200",
	} {
		if got := assume.Get(field); got != wantValue {
			t.Errorf("AssumeRole %s = %q, want %q", field, got, wantValue)
		}
	}
	if !strings.Contains(rec.auth[0], "Credential=AKIDBASE/") {
		t.Errorf("AssumeRole signed with %q, want the base credentials", rec.auth[0])
	}
	for i, region := range []string{"us-east-1", "eu-west-1", "us-west-2"} {
		auth := rec.auth[i+1]
		if !strings.Contains(auth, "Credential=ASIAASSUMED/") || !strings.Contains(auth, "/"+region+"/ec2/") {
			t.Errorf("DescribeImages in %s signed with %q, want the assumed role's key and that region", region, auth)
		}
	}
}

// TestDefaultRetries: unset, max_retries allows 10 attempts, not the SDK's 3. (Waiting out the
// backoff of 10 real attempts would take most of a minute, so the retryer is asked.)
func TestDefaultRetries(t *testing.T) {
	isolateEnv(t)
	for _, tc := range []struct{ maxRetries, wantAttempts int }{{0, 10}, {4, 5}, {20, 21}} {
		c := AccessConfig{Region: "us-east-1", MaxRetries: tc.maxRetries}
		if errs := c.Prepare(); len(errs) != 0 {
			t.Fatal(errs)
		}
		if got := c.newRetryer().MaxAttempts(); got != tc.wantAttempts {
			t.Errorf("max_retries %d: %d attempts, want %d", tc.maxRetries, got, tc.wantAttempts)
		}
		if tc.maxRetries == 0 && c.MaxRetries != DefaultMaxRetries {
			t.Errorf("Prepare left max_retries at %d, want the default %d filled in for every component", c.MaxRetries, DefaultMaxRetries)
		}
	}
}

// TestResolvedCredentialsMasked: credentials the SDK finds itself (here in the environment) are
// registered with the secret filter as soon as a client uses them, like those of a template. The
// filter is process-wide and other tests register short strings in it, so the check runs in a
// fresh test process.
func TestResolvedCredentialsMasked(t *testing.T) {
	line := "key AKIDFROMENVIRONMENT secret secret-from-environment token token-from-environment"
	if os.Getenv("AWSCONF_MASK_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestResolvedCredentialsMasked$", "-test.count=1")
		cmd.Env = append(os.Environ(), "AWSCONF_MASK_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "PASS") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	isolateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-from-environment")
	t.Setenv("AWS_SESSION_TOKEN", "token-from-environment")
	rec := &recorder{}
	c := AccessConfig{Region: "us-east-1", CustomEndpointEC2: rec.server(t, "ec2").URL}
	if errs := c.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if got := packersdk.LogSecretFilter.FilterString(line); got != line {
		t.Fatalf("masked before the credentials were resolved: %s", got)
	}
	client, err := c.EC2Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.DescribeImages(context.Background(), &ec2.DescribeImagesInput{}); err != nil {
		t.Fatal(err)
	}
	want := "key <sensitive> secret <sensitive> token <sensitive>"
	if got := packersdk.LogSecretFilter.FilterString(line); got != want {
		t.Errorf("once resolved, the credentials are masked as %q, want %q", got, want)
	}
}

func TestErrorCode(t *testing.T) {
	rec := &recorder{throttle: 100}
	isolateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	c := AccessConfig{Region: "us-east-1", MaxRetries: 1, CustomEndpointEC2: rec.server(t, "ec2").URL}
	if errs := c.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	client, err := c.EC2Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
	wrapped := fmt.Errorf("listing images: %w", err)
	if got := ErrorCode(wrapped); got != "RequestLimitExceeded" {
		t.Errorf("ErrorCode(%v) = %q, want RequestLimitExceeded", wrapped, got)
	}
	if got := ErrorCode(errors.New("not from AWS")); got != "" {
		t.Errorf("ErrorCode of a plain error = %q, want empty", got)
	}
}

// TestCredentialsMaskedInLogs: Prepare registers the keys with Packer's log secret filter, so
// neither the log nor the UI ever shows them.
func TestCredentialsMaskedInLogs(t *testing.T) {
	isolateEnv(t)
	c := AccessConfig{Region: "us-east-1", AccessKey: "AKIDMASKTEST", SecretKey: "secret-mask-test", Token: "token-mask-test"}
	if errs := c.Prepare(); len(errs) != 0 {
		t.Fatal(errs)
	}
	got := packersdk.LogSecretFilter.FilterString("key AKIDMASKTEST secret secret-mask-test token token-mask-test")
	for _, secret := range []string{"AKIDMASKTEST", "secret-mask-test", "token-mask-test"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q is not masked: %s", secret, got)
		}
	}
}

func TestAdaptiveRetries(t *testing.T) {
	tests := []struct {
		name       string
		maxRetries int
		throttle   int
		wantCalls  int
		wantErr    bool
	}{
		{name: "the default recovers from 2 throttles", throttle: 2, wantCalls: 3},
		{name: "max_retries 1 means 2 attempts", maxRetries: 1, throttle: 5, wantCalls: 2, wantErr: true},
		{name: "max_retries 2 gives up after 3 attempts", maxRetries: 2, throttle: 5, wantCalls: 3, wantErr: true},
		{name: "max_retries 4 outlasts 3 throttles", maxRetries: 4, throttle: 3, wantCalls: 4},
	}
	isolateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case waits out real backoff delays
			rec := &recorder{throttle: tt.throttle}
			c := AccessConfig{Region: "us-east-1", MaxRetries: tt.maxRetries, CustomEndpointEC2: rec.server(t, "ec2").URL}
			if errs := c.Prepare(); len(errs) != 0 {
				t.Fatal(errs)
			}
			cfg, err := c.Config(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := cfg.Retryer().(*retry.AdaptiveMode); !ok {
				t.Errorf("retryer is %T, want *retry.AdaptiveMode", cfg.Retryer())
			}
			client, err := c.EC2Client(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.DescribeImages(context.Background(), &ec2.DescribeImagesInput{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("DescribeImages error = %v, want error: %v", err, tt.wantErr)
			}
			if tt.wantErr && !strings.Contains(err.Error(), "RequestLimitExceeded") {
				t.Errorf("error = %v, want the throttling error", err)
			}
			if got := len(rec.snapshot()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestForRegionKeepsOriginal(t *testing.T) {
	isolateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	c := AccessConfig{Region: "us-east-1"}
	c.Prepare()
	ctx := context.Background()
	other, err := c.ForRegion("eu-west-1").Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own, err := c.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if other.Region != "eu-west-1" || own.Region != "us-east-1" {
		t.Errorf("regions = %q and %q, want eu-west-1 and us-east-1", other.Region, own.Region)
	}
	if other.Credentials != own.Credentials {
		t.Errorf("ForRegion copy has its own credential provider; want the shared cache")
	}
}

func TestRegions(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-central-2", "ap-southeast-7", "us-gov-east-1", "cn-northwest-1", "mx-central-1"} {
		if !ValidRegion(r) {
			t.Errorf("ValidRegion(%q) = false", r)
		}
	}
	for _, r := range []string{"", "us-east", "useast1", "us-east-1 ", "US-EAST-1", "moon-base-1"} {
		if ValidRegion(r) {
			t.Errorf("ValidRegion(%q) = true", r)
		}
	}
	for _, r := range KnownRegions() {
		if !ValidRegionSyntax(r) {
			t.Errorf("known region %q fails ValidRegionSyntax", r)
		}
	}
	for _, r := range []string{"us-isob-east-1", "eusc-de-east-1", "xx-newplace-1"} {
		if !ValidRegionSyntax(r) {
			t.Errorf("ValidRegionSyntax(%q) = false", r)
		}
	}
	for _, r := range []string{"", "us-east", "1-us-east", "us_east_1", "us-east-1a", "US-EAST-1"} {
		if ValidRegionSyntax(r) {
			t.Errorf("ValidRegionSyntax(%q) = true", r)
		}
	}
}

func TestComponentAppID(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"/plugins/packer-plugin-golden_v0.1.0_x5.0_linux_amd64", "start", "builder", "ebs"}, "golden-ebs"},
		{[]string{"packer-plugin-golden", "start", "post-processor", "lifecycle"}, "golden-lifecycle"},
		{[]string{"packer-plugin-golden", "start", "builder", "--protobuf", "ebs"}, "golden-ebs"},
		{[]string{"packer-plugin-golden", "--protobuf", "start", "provisioner", "harden"}, "golden-harden"},
		{[]string{"packer-plugin-golden", "start", "datasource", "ami"}, "golden-ami"},
		{[]string{"packer-plugin-golden", "describe"}, ""},
		{[]string{"awsconf.test", "-test.run", "X", "Y"}, ""},
		{[]string{"packer-plugin-golden"}, ""},
		{nil, ""},
	} {
		if got := componentAppID(tc.args); got != tc.want {
			t.Errorf("componentAppID(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestCheckRegion: the region of any option (a target's, a copy's) is checked like `region`,
// named by its option.
func TestCheckRegion(t *testing.T) {
	strict, lax := &AccessConfig{}, &AccessConfig{SkipRegionValidation: true}
	for _, tc := range []struct {
		c      *AccessConfig
		region string
		want   string
	}{
		{strict, "eu-west-1", ""},
		{strict, "eu-west-9", `target[1].region: unknown region "eu-west-9" (set skip_region_validation = true to use it anyway)`},
		{lax, "eu-west-9", ""},
		{lax, "Europe", `target[1].region: "Europe" is not a region name`},
	} {
		err := tc.c.CheckRegion("target[1].region", tc.region)
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
			t.Errorf("CheckRegion(%q, skip=%v) = %v, want %q", tc.region, tc.c.SkipRegionValidation, err, tc.want)
		}
	}
}
