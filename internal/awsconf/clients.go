package awsconf

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// EC2Client returns an EC2 client for c.Region. custom_endpoint_ec2, when set, wins over the
// endpoint the SDK resolved (AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL or the regional default).
func (c *AccessConfig) EC2Client(ctx context.Context) (*ec2.Client, error) {
	cfg, err := c.Config(ctx)
	if err != nil {
		return nil, err
	}
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) {
		if c.CustomEndpointEC2 != "" {
			o.BaseEndpoint = aws.String(c.CustomEndpointEC2)
		}
	}), nil
}

// SSMClient returns a Systems Manager client for c.Region.
func (c *AccessConfig) SSMClient(ctx context.Context) (*ssm.Client, error) {
	cfg, err := c.Config(ctx)
	if err != nil {
		return nil, err
	}
	return ssm.NewFromConfig(cfg), nil
}

// STSClient returns an STS client for c.Region.
func (c *AccessConfig) STSClient(ctx context.Context) (*sts.Client, error) {
	cfg, err := c.Config(ctx)
	if err != nil {
		return nil, err
	}
	return sts.NewFromConfig(cfg), nil
}

// AutoScalingClient returns an Auto Scaling client for c.Region.
func (c *AccessConfig) AutoScalingClient(ctx context.Context) (*autoscaling.Client, error) {
	cfg, err := c.Config(ctx)
	if err != nil {
		return nil, err
	}
	return autoscaling.NewFromConfig(cfg), nil
}

// KMSClient returns a Key Management Service client for c.Region. custom_endpoint_ec2 does not
// apply to it: KMS is reached through AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL or the regional
// default.
func (c *AccessConfig) KMSClient(ctx context.Context) (*kms.Client, error) {
	cfg, err := c.Config(ctx)
	if err != nil {
		return nil, err
	}
	return kms.NewFromConfig(cfg), nil
}
