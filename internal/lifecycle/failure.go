package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// After a failed run, Packer deletes the input artifact: its core destroys the builder's artifact
// when a post-processor returns an error, whatever the post-processor or keep_input_artifact say,
// unless another post-processor block kept it. An input image that copies, shares or an SSM
// parameter already point at must survive that; SecureInput sees to it.

// InputUse says what the run made point at one of the input's images.
type InputUse struct {
	Image ImageRef
	// Uses describes each pointer: "copy eu-west-1:ami-...", "shared with 444455556666",
	// "SSM parameter /golden/app in us-east-1".
	Uses []string
}

// InputUses lists, for each input image, what the run made point at it.
func InputUses(result Result, input []ImageRef) []InputUse {
	var out []InputUse
	for _, ref := range input {
		use := InputUse{Image: ref}
		for _, img := range result.Images {
			if img.CopiedFrom == ref.String() {
				use.Uses = append(use.Uses, "copy "+img.Region+":"+img.ImageID)
			}
			if img.Region != ref.Region || img.ImageID != ref.ImageID {
				continue
			}
			if len(img.SharedWith) > 0 {
				use.Uses = append(use.Uses, "shared with "+strings.Join(img.SharedWith, ", "))
			}
			if img.SSMParameter != "" {
				use.Uses = append(use.Uses, "SSM parameter "+img.SSMParameter+" in "+img.Region)
			}
		}
		if len(use.Uses) > 0 {
			out = append(out, use)
		}
	}
	return out
}

// Secured is what SecureInput did.
type Secured struct {
	// Protected are the input images now protected from deregistration, so that Packer's deletion
	// of the input fails and they stay.
	Protected []InputUse
	// Restored describes each SSM parameter put back to its value before the run, because the
	// image it was pointed at could not be protected.
	Restored []string
}

// SecureInput protects from deregistration every input image the failed run made something
// point at, so that Packer's deletion of the input artifact cannot remove it. Where that fails,
// the SSM parameter the run pointed at the image is put back to its value before the run (or
// deleted when it did not exist), so that no parameter names an image that is gone. It works on
// its own context: the run's is often the one that failed.
func (e *Executor) SecureInput(result Result, input []ImageRef, job Job) (Secured, error) {
	timeout := e.CleanupTimeout
	if timeout <= 0 {
		timeout = DefaultCleanupTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out Secured
	var errs []error
	for _, use := range InputUses(result, input) {
		if alreadyProtected(result, use.Image) {
			out.Protected = append(out.Protected, use)
			continue
		}
		err := e.protect(ctx, use.Image)
		if err == nil {
			out.Protected = append(out.Protected, use)
			continue
		}
		errs = append(errs, fmt.Errorf("protecting %s from deregistration: %w", use.Image, err))
		if restored, err := e.restoreParameter(ctx, result, job, use.Image); err != nil {
			errs = append(errs, err)
		} else if restored != "" {
			out.Restored = append(out.Restored, restored)
		}
	}
	return out, errors.Join(errs...)
}

func alreadyProtected(result Result, ref ImageRef) bool {
	for _, img := range result.Images {
		if img.Region == ref.Region && img.ImageID == ref.ImageID {
			return img.Protected
		}
	}
	return false
}

func (e *Executor) protect(ctx context.Context, ref ImageRef) error {
	c, err := e.Clients(ctx, ref.Region)
	if err != nil {
		return err
	}
	e.say("Protecting %s from deregistration: what this run made points at it", ref)
	_, err = c.EC2.EnableImageDeregistrationProtection(ctx, &ec2.EnableImageDeregistrationProtectionInput{ImageId: aws.String(ref.ImageID)})
	return err
}

// restoreParameter puts the job's SSM parameter in ref's region back to its value before the run
// when the run pointed it at ref.
func (e *Executor) restoreParameter(ctx context.Context, result Result, job Job, ref ImageRef) (string, error) {
	published := false
	for _, img := range result.Images {
		if img.Region == ref.Region && img.ImageID == ref.ImageID && img.SSMParameter != "" {
			published = true
		}
	}
	if !published {
		return "", nil
	}
	c, err := e.Clients(ctx, ref.Region)
	if err != nil {
		return "", err
	}
	prev, existed := result.PreviousParameters[ref.Region]
	if !existed {
		if _, err := c.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(job.SSMParameter)}); err != nil {
			return "", fmt.Errorf("deleting SSM parameter %s in %s, which names %s: %w", job.SSMParameter, ref.Region, ref, err)
		}
		return fmt.Sprintf("SSM parameter %s in %s deleted (it did not exist before the run)", job.SSMParameter, ref.Region), nil
	}
	if _, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(job.SSMParameter), Value: aws.String(prev), Type: ssmtypes.ParameterTypeString,
		DataType: aws.String(ImageDataType), Overwrite: aws.Bool(true),
	}); err != nil {
		return "", fmt.Errorf("putting SSM parameter %s in %s back to %s: %w", job.SSMParameter, ref.Region, prev, err)
	}
	return fmt.Sprintf("SSM parameter %s in %s put back to %s", job.SSMParameter, ref.Region, prev), nil
}
