package lifecycle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/golden-ami/packer-plugin-golden/internal/awsconf"
)

// CopyTokenTag is put on every image and snapshot a copy creates, with a value unique to that
// copy, so that what an interrupted copy left can be found and deleted even when CopyImage's answer
// never arrived or the image never listed its snapshots.
const CopyTokenTag = "golden:copy-token"

// CopiedFromTag records "region:ami" of the image a copy was made from.
const CopiedFromTag = "golden:copied-from"

// Defaults of the executor's timings.
const (
	DefaultCopyTimeout    = 2 * time.Hour
	DefaultPollInterval   = 15 * time.Second
	DefaultProgressEvery  = 30 * time.Second
	DefaultCleanupTimeout = 10 * time.Minute
	maxPollInterval       = 2 * time.Minute
)

// copyInFlight is one copy this run asked for; imageID is empty until CopyImage answered.
type copyInFlight struct {
	region, imageID, token string
}

// copyAll copies the source to every copy_to region at once, each with its own waiter, under one
// overall timeout. If any copy fails, or ctx is cancelled, the others are stopped and every copy
// this run started is deregistered and its snapshots deleted, with a fresh context.
func (e *Executor) copyAll(ctx context.Context, job Job, src sourceImage) ([]RegionImage, error) {
	if len(job.CopyTo) == 0 {
		return nil, nil
	}
	if job.DryRun {
		for _, region := range job.CopyTo {
			e.say("%s %s to %s%s", wouldOr(true, "copy"), src.ref, region, describeEncryption(job, region))
		}
		return nil, nil
	}
	timeout := job.CopyTimeout
	if timeout <= 0 {
		timeout = DefaultCopyTimeout
	}
	// startCtx bounds the CopyImage calls, copyCtx the waits. One failed copy cancels copyCtx
	// only: a CopyImage already on its way still gets its answer, so that the copy it made is known
	// and removed, instead of appearing after the cleanup looked for it.
	startCtx, cancelStart := context.WithTimeout(ctx, timeout)
	defer cancelStart()
	copyCtx, cancel := context.WithCancel(startCtx)
	defer cancel()

	// A run nonce makes the idempotency tokens unique per run while staying the same across the
	// SDK's retries of one request.
	nonce := fmt.Sprint(e.now().UnixNano())
	var (
		mu       sync.Mutex
		started  []copyInFlight
		results  = make([]RegionImage, len(job.CopyTo))
		errs     = make([]error, len(job.CopyTo))
		wg       sync.WaitGroup
		failOnce sync.Once
	)
	for i, region := range job.CopyTo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := copyToken(src.ref, region, nonce)
			mu.Lock()
			started = append(started, copyInFlight{region: region, token: token})
			slot := len(started) - 1
			mu.Unlock()
			ri, err := e.copyOne(startCtx, copyCtx, job, src, region, token, func(id string) {
				mu.Lock()
				started[slot].imageID = id
				mu.Unlock()
			})
			if err != nil {
				errs[i] = fmt.Errorf("copying %s to %s: %w", src.ref, region, err)
				// One failed copy fails the run: stop the others now rather than after their wait.
				failOnce.Do(cancel)
				return
			}
			results[i] = ri
		}()
	}
	wg.Wait()

	err := errors.Join(errs...)
	if err == nil && copyCtx.Err() != nil {
		err = fmt.Errorf("copying %s: %w", src.ref, copyCtx.Err())
	}
	if err != nil {
		if ctx.Err() == nil && (errors.Is(copyCtx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) {
			err = fmt.Errorf("%w (copy_timeout %s)", err, timeout)
		}
		if cleanErr := e.removeCopies(started); cleanErr != nil {
			return nil, errors.Join(err, cleanErr)
		}
		return nil, err
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Region < results[j].Region })
	return results, nil
}

func describeEncryption(job Job, region string) string {
	switch key := job.KMSKeyIDs[region]; {
	case key != "":
		return " encrypted with " + key
	case job.EncryptCopies:
		return " encrypted with the account's default EBS key"
	}
	return ""
}

// copyToken is CopyImage's idempotency token and the value of CopyTokenTag: at most 64 ASCII
// characters, as ClientToken allows.
func copyToken(src ImageRef, region, nonce string) string {
	sum := sha256.Sum256([]byte(src.String() + "|" + region + "|" + nonce))
	return "golden-" + hex.EncodeToString(sum[:])[:40]
}

func (e *Executor) copyOne(startCtx, ctx context.Context, job Job, src sourceImage, region, token string, started func(id string)) (RegionImage, error) {
	c, err := e.Clients(ctx, region)
	if err != nil {
		return RegionImage{}, err
	}
	imageTags := MergeTags(userTags(src.image.Tags), job.Tags, map[string]string{CopiedFromTag: src.ref.String(), CopyTokenTag: token})
	snapshotTags := MergeTags(imageTags, job.SnapshotTags)
	in := &ec2.CopyImageInput{
		Name:          src.image.Name,
		SourceImageId: aws.String(src.ref.ImageID),
		SourceRegion:  aws.String(src.ref.Region),
		Description:   src.image.Description,
		ClientToken:   aws.String(token),
		// The tags travel with the request (tag on create), so that organisation tag policies
		// that require tags at creation accept the copy; the source's own user tags are part of
		// them, which is what CopyImageTags would add.
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeImage, Tags: ec2Tags(imageTags)},
			{ResourceType: types.ResourceTypeSnapshot, Tags: ec2Tags(snapshotTags)},
		},
	}
	if key := job.KMSKeyIDs[region]; key != "" {
		in.Encrypted, in.KmsKeyId = aws.Bool(true), aws.String(key)
	} else if job.EncryptCopies {
		in.Encrypted = aws.Bool(true)
	}
	if in.Description == nil {
		in.Description = aws.String("Copy of " + src.ref.String())
	}
	e.say("Copying %s to %s%s", src.ref, region, describeEncryption(job, region))
	out, err := c.EC2.CopyImage(startCtx, in)
	if err != nil {
		return RegionImage{}, err
	}
	id := aws.ToString(out.ImageId)
	started(id)
	e.message("%s: copy %s started", region, id)
	if err := ctx.Err(); err != nil {
		return RegionImage{}, err
	}

	img, err := e.waitAvailable(ctx, c.EC2, region, id)
	if err != nil {
		return RegionImage{}, err
	}
	e.say("%s: %s is available", region, id)
	ri := RegionImage{
		Region:       region,
		ImageID:      id,
		Name:         aws.ToString(img.Name),
		CopiedFrom:   src.ref.String(),
		Tags:         imageTags,
		Encrypted:    aws.ToBool(in.Encrypted),
		KMSKeyID:     aws.ToString(in.KmsKeyId),
		CreationDate: creationDate(img),
	}
	for _, s := range SnapshotsOf(img) {
		ri.Snapshots = append(ri.Snapshots, s.ID)
	}
	for _, bdm := range img.BlockDeviceMappings {
		if bdm.Ebs != nil && aws.ToBool(bdm.Ebs.Encrypted) {
			ri.Encrypted = true
		}
	}
	return ri, nil
}

// waitAvailable polls the image until it is available, reporting progress every ProgressEvery.
// A copy that turns "failed" is an error naming EC2's reason. The image not being found yet is
// waited out: EC2 is eventually consistent right after CopyImage.
func (e *Executor) waitAvailable(ctx context.Context, api ec2.DescribeImagesAPIClient, region, id string) (types.Image, error) {
	poll := e.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	every := e.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	maxWait := DefaultCopyTimeout
	if deadline, ok := ctx.Deadline(); ok {
		maxWait = time.Until(deadline)
	}
	if maxWait <= 0 {
		return types.Image{}, context.DeadlineExceeded
	}

	var (
		mu    sync.Mutex
		last  types.Image
		state = "pending"
		// failed is set when the poll itself ended the wait with an error.
		failed bool
	)
	waiter := ec2.NewImageAvailableWaiter(api, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay = poll
		o.MaxDelay = waiterMaxDelay(poll)
		o.Retryable = func(_ context.Context, _ *ec2.DescribeImagesInput, out *ec2.DescribeImagesOutput, err error) (bool, error) {
			if err != nil {
				if awsconf.ErrorCode(err) == "InvalidAMIID.NotFound" {
					return true, nil
				}
				mu.Lock()
				failed = true
				mu.Unlock()
				return false, err
			}
			if len(out.Images) == 0 {
				return true, nil
			}
			img := out.Images[0]
			mu.Lock()
			last, state = img, string(img.State)
			mu.Unlock()
			switch img.State {
			case types.ImageStateAvailable:
				return false, nil
			case types.ImageStateFailed, types.ImageStateError, types.ImageStateDeregistered, types.ImageStateInvalid:
				reason := ""
				if img.StateReason != nil {
					reason = ": " + aws.ToString(img.StateReason.Message)
				}
				mu.Lock()
				failed = true
				mu.Unlock()
				return false, fmt.Errorf("image %s became %s%s", id, img.State, reason)
			}
			return true, nil
		}
	})

	done := make(chan struct{})
	defer close(done)
	startedAt := time.Now()
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				mu.Lock()
				s := state
				mu.Unlock()
				e.message("%s: %s still %s after %s", region, id, s, time.Since(startedAt).Round(time.Second))
			}
		}
	}()

	out, err := waiter.WaitForOutput(ctx, &ec2.DescribeImagesInput{ImageIds: []string{id}}, maxWait)
	if err != nil {
		if ctx.Err() != nil {
			return types.Image{}, ctx.Err()
		}
		// Without a failed poll, the waiter gave up because its next poll would pass maxWait, a
		// little before the deadline itself: that is the timeout.
		mu.Lock()
		defer mu.Unlock()
		if !failed {
			return types.Image{}, fmt.Errorf("image %s still %s: %w", id, state, context.DeadlineExceeded)
		}
		return types.Image{}, err
	}
	if len(out.Images) > 0 {
		return out.Images[0], nil
	}
	mu.Lock()
	defer mu.Unlock()
	return last, nil
}

// waiterMaxDelay is the longest pause between two polls: the backoff grows from poll to four
// times poll, capped at two minutes.
func waiterMaxDelay(poll time.Duration) time.Duration {
	return max(poll, min(maxPollInterval, 4*poll))
}

// removeCopies deregisters the copies a failed run started and deletes their snapshots, found both
// through the image and through CopyTokenTag. It runs on a fresh context: the run's context is
// usually the one that was cancelled.
func (e *Executor) removeCopies(copies []copyInFlight) error {
	if len(copies) == 0 {
		return nil
	}
	timeout := e.CleanupTimeout
	if timeout <= 0 {
		timeout = DefaultCleanupTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for _, cp := range copies {
		label := cp.region + ":" + cp.imageID
		if cp.imageID == "" {
			label = "copy to " + cp.region + " tagged " + CopyTokenTag + "=" + cp.token
		}
		e.say("Removing the partial %s", label)
		if err := e.removeCopy(ctx, cp); err != nil {
			errs = append(errs, fmt.Errorf("removing the partial %s (remove it by hand): %w", label, err))
		}
	}
	return errors.Join(errs...)
}

func (e *Executor) removeCopy(ctx context.Context, cp copyInFlight) error {
	c, err := e.Clients(ctx, cp.region)
	if err != nil {
		return err
	}
	// The image is found by its tag as well as by id: CopyImage may have created it without its
	// answer reaching us.
	out, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{
		Owners:          []string{"self"},
		Filters:         []types.Filter{{Name: aws.String("tag:" + CopyTokenTag), Values: []string{cp.token}}},
		IncludeDisabled: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("finding the image: %w", err)
	}
	found := out.Images
	if cp.imageID != "" && !containsImage(found, cp.imageID) {
		byID, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{cp.imageID}})
		switch {
		case err == nil:
			found = append(found, byID.Images...)
		case awsconf.ErrorCode(err) != "InvalidAMIID.NotFound":
			return fmt.Errorf("describing %s: %w", cp.imageID, err)
		}
	}
	images := map[string]bool{}
	snaps := map[string]bool{}
	if cp.imageID != "" {
		images[cp.imageID] = true
	}
	for _, img := range found {
		images[aws.ToString(img.ImageId)] = true
		for _, s := range SnapshotsOf(img) {
			snaps[s.ID] = true
		}
	}
	for id := range images {
		if _, err := c.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil && !imageGone(err) {
			return fmt.Errorf("deregistering %s: %w", id, err)
		}
	}
	tagged, err := snapshotsWithTag(ctx, c.EC2, CopyTokenTag, cp.token)
	if err != nil {
		return fmt.Errorf("finding its snapshots: %w", err)
	}
	for _, id := range tagged {
		snaps[id] = true
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(snaps)) {
		if err := deleteSnapshot(ctx, c.EC2, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func containsImage(images []types.Image, id string) bool {
	for _, img := range images {
		if aws.ToString(img.ImageId) == id {
			return true
		}
	}
	return false
}

func snapshotsWithTag(ctx context.Context, api ec2.DescribeSnapshotsAPIClient, key, value string) ([]string, error) {
	pages := ec2.NewDescribeSnapshotsPaginator(api, &ec2.DescribeSnapshotsInput{
		OwnerIds: []string{"self"},
		Filters:  []types.Filter{{Name: aws.String("tag:" + key), Values: []string{value}}},
	})
	var ids []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Snapshots {
			ids = append(ids, aws.ToString(s.SnapshotId))
		}
	}
	return ids, nil
}

// deleteSnapshot deletes a snapshot, waiting out the short time after DeregisterImage during which
// EC2 may still call it in use. A snapshot already gone is fine.
func deleteSnapshot(ctx context.Context, api EC2API, id string) error {
	delay := time.Second
	for {
		_, err := api.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(id)})
		switch code := awsconf.ErrorCode(err); {
		case err == nil, code == "InvalidSnapshot.NotFound":
			return nil
		case code == "InvalidSnapshot.InUse" && delay <= 16*time.Second:
			select {
			case <-ctx.Done():
				return fmt.Errorf("deleting snapshot %s: %w", id, err)
			case <-time.After(delay):
			}
			delay *= 2
		default:
			return fmt.Errorf("deleting snapshot %s: %w", id, err)
		}
	}
}
