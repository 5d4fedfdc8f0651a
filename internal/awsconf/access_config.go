//go:generate packer-sdc struct-markdown
//go:generate packer-sdc mapstructure-to-hcl2 -type AccessConfig,AssumeRoleConfig

// Package awsconf holds the AWS access options every golden-* component shares and turns them into
// aws-sdk-go-v2 configuration and clients.
//
// Resolution goes through config.LoadDefaultConfig so that everything the SDK understands keeps
// working (AWS_PROFILE, SSO, credential_process, web identity, container and instance roles,
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>); the options here only add to or override it.
package awsconf

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/golden-ami/packer-plugin-golden/internal/secretfilter"
)

// Bounds AWS puts on an assumed role session (AssumeRole DurationSeconds).
const (
	MinAssumeRoleDuration = 15 * time.Minute
	MaxAssumeRoleDuration = 12 * time.Hour
)

// DefaultSessionName is the role session name used when assume_role sets none; it shows up in
// CloudTrail as the session that made the calls.
const DefaultSessionName = "packer-plugin-golden"

// AssumeRoleConfig configures an IAM role to assume on top of the resolved credentials.
type AssumeRoleConfig struct {
	// The ARN of the IAM role to assume, e.g. `arn:aws:iam::111122223333:role/golden-image-builder`.
	// The credentials resolved from the other access options (or the default chain) are used to call
	// `sts:AssumeRole`, and every AWS call of the component then runs as that role.
	RoleARN string `mapstructure:"role_arn" required:"false"`
	// The external ID the role's trust policy requires, if any.
	ExternalID string `mapstructure:"external_id" required:"false"`
	// The name of the role session, visible in CloudTrail. Defaults to `packer-plugin-golden`.
	SessionName string `mapstructure:"session_name" required:"false"`
	// How long each assumed role session lasts, between `15m` and `12h` (and no longer than the
	// role's maximum session duration). Sessions are renewed automatically before they expire.
	// Defaults to the STS default of one hour.
	Duration time.Duration `mapstructure:"duration" required:"false"`
}

// Enabled reports whether a role is to be assumed.
func (c AssumeRoleConfig) Enabled() bool { return c.RoleARN != "" }

// AccessConfig is how a component reaches AWS. Without any of these options the AWS SDK's default
// credential chain is used: environment variables, the shared config and credentials files
// (`AWS_PROFILE`), SSO, web identity, and the ECS or EC2 instance role.
type AccessConfig struct {
	// The AWS region to work in, e.g. `us-east-1`. When empty, `AWS_REGION` and then
	// `AWS_DEFAULT_REGION` from the environment are used; one of the three is required.
	Region string `mapstructure:"region" required:"true"`
	// The named profile of the shared config and credentials files to use. Takes precedence over
	// credentials in the environment; `access_key`/`secret_key` take precedence over it.
	Profile string `mapstructure:"profile" required:"false"`
	// The AWS access key ID. Set it together with `secret_key`; prefer the environment, a profile or
	// an instance role over writing keys in a template. If you do pass them, pass them through
	// sensitive variables so that Packer masks them.
	AccessKey string `mapstructure:"access_key" required:"false"`
	// The AWS secret access key that goes with `access_key`.
	SecretKey string `mapstructure:"secret_key" required:"false"`
	// The session token of temporary credentials, used with `access_key` and `secret_key`.
	Token string `mapstructure:"token" required:"false"`
	// An IAM role to assume with the resolved credentials. See the `assume_role` block below.
	AssumeRole AssumeRoleConfig `mapstructure:"assume_role" required:"false"`
	// How many times a failed API call is retried when AWS throttles it or fails transiently.
	// Retries back off exponentially with jitter, and the client slows itself down while AWS
	// throttles (the SDK's adaptive retry mode). Defaults to `9`, 10 attempts in all: work that
	// fans out over regions and many images meets throttling the SDK's own 3 attempts do not
	// outlast.
	MaxRetries int `mapstructure:"max_retries" required:"false"`
	// The URL of an EC2-compatible endpoint to send EC2 calls to, e.g. `https://ec2.example.com`.
	// Other services are not affected. The SDK's own `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_EC2`
	// environment variables also work; this option takes precedence over them.
	CustomEndpointEC2 string `mapstructure:"custom_endpoint_ec2" required:"false"`
	// Accept a region name that is not in the plugin's list of known regions, e.g. a region that
	// opened after this release. Defaults to `false`.
	SkipRegionValidation bool `mapstructure:"skip_region_validation" required:"false"`

	// shared is the loaded SDK configuration, shared by the copies ForRegion makes so that every
	// region uses one credential cache (one AssumeRole call, not one per region).
	shared *sharedConfig
}

type sharedConfig struct {
	mu     sync.Mutex
	loaded bool
	cfg    aws.Config
}

// Compiled on first use: a counted repetition compiles into a large program, and packer starts the
// plugin several times per build (discovery, each component), most of which never validate this.
var roleARNSyntax = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws(-cn|-us-gov|-iso[a-z]*)?:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
})

// Prepare fills defaults from the environment and validates the options. Every problem is
// returned, each naming its option.
func (c *AccessConfig) Prepare() []error {
	var errs []error
	if c.Region == "" {
		c.Region = regionFromEnv()
	}
	if c.Region == "" {
		errs = append(errs, fmt.Errorf("region: required (or set AWS_REGION in the environment)"))
	} else if err := c.CheckRegion("region", c.Region); err != nil {
		errs = append(errs, err)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		errs = append(errs, fmt.Errorf("access_key and secret_key: set both or neither"))
	}
	if c.Token != "" && c.AccessKey == "" {
		errs = append(errs, fmt.Errorf("token: requires access_key and secret_key"))
	}
	errs = append(errs, c.AssumeRole.prepare()...)
	switch {
	case c.MaxRetries < 0:
		errs = append(errs, fmt.Errorf("max_retries: must be 0 or more, got %d", c.MaxRetries))
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	}
	if c.CustomEndpointEC2 != "" && !strings.Contains(c.CustomEndpointEC2, "://") {
		errs = append(errs, fmt.Errorf("custom_endpoint_ec2: %q must be a URL with a scheme, e.g. https://ec2.example.com", c.CustomEndpointEC2))
	}
	if c.shared == nil {
		c.shared = &sharedConfig{}
	}
	// Masked in the plugin's log and in what the components print (see secretfilter), whatever
	// prints them; credentials the SDK resolves later are registered as they are (load).
	secretfilter.Set(c.AccessKey, c.SecretKey, c.Token)
	return errs
}

// CheckRegion checks a region named by option: a known region, or with skip_region_validation
// any well-formed region name.
func (c *AccessConfig) CheckRegion(option, region string) error {
	if c.SkipRegionValidation {
		if !ValidRegionSyntax(region) {
			return fmt.Errorf("%s: %q is not a region name", option, region)
		}
		return nil
	}
	if !ValidRegion(region) {
		return fmt.Errorf("%s: unknown region %q (set skip_region_validation = true to use it anyway)", option, region)
	}
	return nil
}

func (c *AssumeRoleConfig) prepare() []error {
	var errs []error
	if !c.Enabled() {
		if c.ExternalID != "" || c.SessionName != "" || c.Duration != 0 {
			errs = append(errs, fmt.Errorf("assume_role.role_arn: required when other assume_role options are set"))
		}
		return errs
	}
	if !roleARNSyntax().MatchString(c.RoleARN) {
		errs = append(errs, fmt.Errorf("assume_role.role_arn: %q is not an IAM role ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)", c.RoleARN))
	}
	if c.Duration != 0 && (c.Duration < MinAssumeRoleDuration || c.Duration > MaxAssumeRoleDuration) {
		errs = append(errs, fmt.Errorf("assume_role.duration: %s is outside %s..%s", c.Duration, MinAssumeRoleDuration, MaxAssumeRoleDuration))
	}
	if c.SessionName == "" {
		c.SessionName = DefaultSessionName
	}
	return errs
}

// regionFromEnv reads the region variables in the order the AWS CLI does; the Go SDK alone only
// knows AWS_REGION.
func regionFromEnv() string {
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	return ""
}

// ForRegion returns a copy of the access options for another region. The copy shares the loaded
// credentials with c, so assumed roles and SSO sessions are not resolved again per region. The caller
// validates region.
func (c *AccessConfig) ForRegion(region string) *AccessConfig {
	if c.shared == nil {
		c.shared = &sharedConfig{}
	}
	cp := *c
	cp.Region = region
	return &cp
}

// Config returns the SDK configuration for c.Region: credentials (explicit keys, else the profile,
// else the default chain, then the assumed role if any) and adaptive retries. The first call loads
// it; later calls, on c or on its ForRegion copies, reuse it.
func (c *AccessConfig) Config(ctx context.Context) (aws.Config, error) {
	if c.shared == nil {
		c.shared = &sharedConfig{}
	}
	s := c.shared
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded {
		cfg, err := c.load(ctx)
		if err != nil {
			return aws.Config{}, err
		}
		s.cfg, s.loaded = cfg, true
	}
	cfg := s.cfg.Copy()
	if c.Region != "" {
		cfg.Region = c.Region
	}
	return cfg, nil
}

func (c *AccessConfig) load(ctx context.Context) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(c.newRetryer),
	}
	if processAppID != "" {
		opts = append(opts, config.WithAppID(processAppID))
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.AccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, c.Token)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		// The SDK's load errors name files and profiles, never secrets.
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Credentials != nil {
		cfg.Credentials = maskedCredentials{cfg.Credentials}
	}
	if c.AssumeRole.Enabled() {
		cfg.Credentials = maskedCredentials{aws.NewCredentialsCache(c.assumeRoleProvider(cfg))}
	}
	return cfg, nil
}

func (c *AccessConfig) assumeRoleProvider(base aws.Config) *stscreds.AssumeRoleProvider {
	role := c.AssumeRole
	return stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), role.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = role.SessionName
		if o.RoleSessionName == "" {
			o.RoleSessionName = DefaultSessionName
		}
		if role.ExternalID != "" {
			o.ExternalID = aws.String(role.ExternalID)
		}
		if role.Duration != 0 {
			o.Duration = role.Duration
		}
	})
}

// newRetryer builds the adaptive retryer: standard exponential backoff with jitter, plus a
// client-side rate limit that slows the client down while AWS answers with throttling errors.
// Lifecycle work fans out over regions and many images, where plain retries would keep hitting the
// limit.
func (c *AccessConfig) newRetryer() aws.Retryer {
	retries := c.MaxRetries
	if retries == 0 { // not prepared
		retries = DefaultMaxRetries
	}
	attempts := retries + 1
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
		})
	})
}

// DefaultMaxRetries is max_retries when unset: 10 attempts in all, as packer-plugin-amazon makes,
// where the SDK makes 3. Every component reads it from here.
const DefaultMaxRetries = 9
