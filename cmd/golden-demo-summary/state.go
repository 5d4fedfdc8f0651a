package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/golden-ami/packer-plugin-golden/internal/goldentag"
)

// ec2API is what the summary asks EC2.
type ec2API interface {
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	DescribeImageAttribute(context.Context, *ec2.DescribeImageAttributeInput, ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// ssmAPI is what the summary asks SSM.
type ssmAPI interface {
	GetParameter(context.Context, *ssm.GetParameterInput, ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Clients returns the clients of a region.
type Clients func(region string) (ec2API, ssmAPI)

// Instance is an instance the pipeline launched.
type Instance struct {
	Region string `json:"region"`
	ID     string `json:"id"`
	State  string `json:"state"`
	Image  string `json:"image"`
}

// Observe reads, in each region of the summary, the image as it is now (state, tags, launch
// permissions), the SSM parameter golden-lifecycle published, and the images of the pipeline
// (pipelineTag) that are left.
func (s *Summary) Observe(ctx context.Context, clients Clients, pipelineTag string) error {
	for i := range s.Regions {
		r := &s.Regions[i]
		ec2c, ssmc := clients(r.Region)
		out, err := ec2c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{r.AMI}})
		if err != nil {
			return fmt.Errorf("describing %s in %s: %w", r.AMI, r.Region, err)
		}
		if len(out.Images) != 1 {
			return fmt.Errorf("%s: %s does not exist", r.Region, r.AMI)
		}
		img := out.Images[0]
		r.State = string(img.State)
		r.Tags = map[string]string{}
		for _, t := range img.Tags {
			r.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		perms, err := ec2c.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{ImageId: img.ImageId, Attribute: types.ImageAttributeNameLaunchPermission})
		if err != nil {
			return fmt.Errorf("reading the launch permissions of %s in %s: %w", r.AMI, r.Region, err)
		}
		for _, p := range perms.LaunchPermissions {
			if p.UserId != nil {
				r.SharedWith = append(r.SharedWith, aws.ToString(p.UserId))
			}
		}
		if r.Parameter != "" {
			p, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(r.Parameter)})
			if err != nil {
				return fmt.Errorf("reading %s in %s: %w", r.Parameter, r.Region, err)
			}
			r.ParameterValue = aws.ToString(p.Parameter.Value)
		}
		if r.PipelineImages, err = pipelineImages(ctx, ec2c, pipelineTag); err != nil {
			return fmt.Errorf("listing the pipeline's images in %s: %w", r.Region, err)
		}
	}
	return nil
}

// pipelineImages are the account's images tagged golden:pipeline = tag, newest first.
func pipelineImages(ctx context.Context, c ec2API, tag string) ([]string, error) {
	var images []types.Image
	p := ec2.NewDescribeImagesPaginator(c, &ec2.DescribeImagesInput{
		Owners:  []string{"self"},
		Filters: []types.Filter{{Name: aws.String("tag:" + goldentag.Pipeline), Values: []string{tag}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		images = append(images, page.Images...)
	}
	sort.Slice(images, func(i, j int) bool {
		return aws.ToString(images[i].CreationDate) > aws.ToString(images[j].CreationDate)
	})
	ids := make([]string, len(images))
	for i, img := range images {
		ids[i] = aws.ToString(img.ImageId)
	}
	return ids, nil
}

// aliveStates are the states of an instance that has not been terminated.
var aliveStates = []string{"pending", "running", "stopping", "stopped", "shutting-down"}

// Leftovers lists, in the regions, the temporary instances (golden:temporary = true, as golden-ebs
// and golden-validate tag theirs) that are not terminated. An instance shutting down is given
// until wait to finish.
func Leftovers(ctx context.Context, clients Clients, regions []string, wait time.Duration) ([]Instance, error) {
	deadline := time.Now().Add(wait)
	for {
		var left []Instance
		for _, region := range regions {
			c, _ := clients(region)
			in, err := aliveTemporaryInstances(ctx, c, region)
			if err != nil {
				return nil, err
			}
			left = append(left, in...)
		}
		settling := slices.ContainsFunc(left, func(i Instance) bool { return i.State == "shutting-down" })
		if !settling || time.Now().After(deadline) {
			return left, nil
		}
		select {
		case <-ctx.Done():
			return left, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func aliveTemporaryInstances(ctx context.Context, c ec2API, region string) ([]Instance, error) {
	var left []Instance
	p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("tag:" + goldentag.Temporary), Values: []string{goldentag.TemporaryTrue}},
		{Name: aws.String("instance-state-name"), Values: aliveStates},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the instances of %s: %w", region, err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				state := ""
				if in.State != nil {
					state = string(in.State.Name)
				}
				left = append(left, Instance{Region: region, ID: aws.ToString(in.InstanceId), State: state, Image: aws.ToString(in.ImageId)})
			}
		}
	}
	return left, nil
}
