package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMSAPI is the KMS call the sharing check makes.
type KMSAPI interface {
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
}

// ebsManagedAlias is the alias of the key EC2 encrypts with when no key is named. No other account
// can ever use it, so an image encrypted with it can be shared but never launched by anyone else.
const ebsManagedAlias = "alias/aws/ebs"

// IsAWSManagedEBSKey reports whether a KMS key reference names the AWS-managed EBS key by its alias
// (alias/aws/ebs, or its alias ARN), or is empty on an encrypted snapshot (EC2 then used the
// default). EC2 reports the key of a snapshot by key ARN, which says nothing about who manages
// it: the run-time check asks KMS (DescribeKey) about every other reference.
func IsAWSManagedEBSKey(keyID string) bool {
	return keyID == "" || keyID == ebsManagedAlias || strings.HasSuffix(keyID, ":"+ebsManagedAlias)
}

// shareOptions names the options the job shares through, "" when it does not share.
func shareOptions(job Job) string {
	var names []string
	if len(job.ShareWithAccounts) > 0 {
		names = append(names, "share_with")
	}
	if len(job.ShareWithOrgARNs) > 0 {
		names = append(names, "share_with_org_arns")
	}
	if len(job.ShareWithOUARNs) > 0 {
		names = append(names, "share_with_ou_arns")
	}
	return strings.Join(names, ", ")
}

// keyUse is a KMS key one of the images the job shares is, or will be, encrypted with.
type keyUse struct {
	region, keyID string
	// image is the image encrypted with the key: a source, or for a copy the image copied.
	image ImageRef
	// snapshot is the source's snapshot; copyTo the region of a copy made with the key.
	snapshot, copyTo string
}

// sharedKeys lists, for a job that shares, every KMS key the shared images are or will be
// encrypted with: the key of each encrypted snapshot of every source image, and the kms_key_ids key
// of every copy. It refuses at once what needs no look-up: a key named by the aws/ebs alias, and a
// copy that would be encrypted with its region's default EBS key because no key was named for it.
func sharedKeys(job Job, sources []sourceImage) ([]keyUse, error) {
	options := shareOptions(job)
	if options == "" || len(sources) == 0 {
		return nil, nil
	}
	var uses []keyUse
	for _, src := range sources {
		for _, snap := range src.snapshots {
			if !aws.ToBool(snap.Encrypted) {
				continue
			}
			use := keyUse{region: src.ref.Region, keyID: aws.ToString(snap.KmsKeyId), image: src.ref, snapshot: aws.ToString(snap.SnapshotId)}
			if IsAWSManagedEBSKey(use.keyID) {
				return nil, refuseManagedKey(options, use, use.keyID)
			}
			uses = append(uses, use)
		}
	}
	copied := sources[0]
	for _, region := range job.CopyTo {
		use := keyUse{region: region, keyID: job.KMSKeyIDs[region], image: copied.ref, copyTo: region}
		switch {
		case use.keyID != "" && IsAWSManagedEBSKey(use.keyID):
			return nil, refuseManagedKey(options, use, use.keyID)
		case use.keyID != "":
			uses = append(uses, use)
		case job.EncryptCopies || copied.encrypted():
			// EC2 encrypts such a copy with the region's default EBS key: aws/ebs unless the
			// account chose another. Naming the key is the only way to know before copying.
			return nil, fmt.Errorf("%s: the copy of %s to %s cannot be shared: it will be encrypted, and with no kms_key_ids key for %s EC2 uses that region's default EBS key (aws/ebs unless the account set another), which other accounts cannot use; set kms_key_ids for %s to a customer managed key",
				options, copied.ref, region, region, region)
		}
	}
	return uses, nil
}

// subject names the encrypted thing.
func (u keyUse) subject() string {
	if u.copyTo != "" {
		return fmt.Sprintf("the copy of %s to %s", u.image, u.copyTo)
	}
	return fmt.Sprintf("snapshot %s of %s", u.snapshot, u.image)
}

// refuseManagedKey is the refusal to share what is encrypted with the AWS-managed key.
func refuseManagedKey(options string, use keyUse, key string) error {
	if key == "" {
		key = "no key id reported: EC2's default"
	}
	if use.copyTo != "" {
		return fmt.Errorf("%s: the copy of %s to %s cannot be shared: kms_key_ids names the AWS-managed key aws/ebs (%s) for %s, which other accounts cannot use; name a customer managed key",
			options, use.image, use.copyTo, key, use.copyTo)
	}
	return fmt.Errorf("%s: %s cannot be shared: its snapshot %s is encrypted with the AWS-managed key aws/ebs (%s), which other accounts cannot use; encrypt the image with a customer managed KMS key",
		options, use.image, use.snapshot, key)
}

// checkShareable refuses, before any change, to share an image that is or would be encrypted with
// the AWS-managed EBS key: the accounts it is shared with could not launch it. EC2 names keys by key
// ARN, so every key is resolved with DescribeKey in its region, once per region and key.
func (e *Executor) checkShareable(ctx context.Context, job Job, sources []sourceImage) error {
	uses, err := sharedKeys(job, sources)
	if err != nil {
		return err
	}
	options := shareOptions(job)
	described := map[[2]string]*kmstypes.KeyMetadata{}
	for _, use := range uses {
		cacheKey := [2]string{use.region, use.keyID}
		md, seen := described[cacheKey]
		if !seen {
			if md, err = e.describeKey(ctx, use.region, use.keyID); err != nil {
				return fmt.Errorf("%s: cannot tell whether %s is encrypted with the AWS-managed key, so nothing was changed: %w", options, use.subject(), err)
			}
			described[cacheKey] = md
		}
		if md.KeyManager == kmstypes.KeyManagerTypeAws {
			return refuseManagedKey(options, use, aws.ToString(md.Arn))
		}
	}
	return nil
}

// describeKey asks KMS about a key, once per run, region and key.
func (e *Executor) describeKey(ctx context.Context, region, keyID string) (*kmstypes.KeyMetadata, error) {
	e.keysMu.Lock()
	defer e.keysMu.Unlock()
	cacheKey := [2]string{region, keyID}
	if md, ok := e.keys[cacheKey]; ok {
		return md, nil
	}
	c, err := e.Clients(ctx, region)
	if err != nil {
		return nil, err
	}
	if c.KMS == nil {
		return nil, fmt.Errorf("no KMS client for %s", region)
	}
	out, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err == nil && out.KeyMetadata == nil {
		err = errors.New("the answer has no key metadata")
	}
	if err != nil {
		return nil, fmt.Errorf("describing KMS key %s in %s (kms:DescribeKey): %w", keyID, region, err)
	}
	if e.keys == nil {
		e.keys = map[[2]string]*kmstypes.KeyMetadata{}
	}
	e.keys[cacheKey] = out.KeyMetadata
	return out.KeyMetadata, nil
}
