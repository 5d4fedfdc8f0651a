package ec2sim

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

const protectionCooldown = 24 * time.Hour

func (img *image) deprecated(now time.Time) bool {
	return !img.DeprecationTime.IsZero() && !now.Before(img.DeprecationTime)
}

// protected reports whether DeregisterImage must be refused.
func (img *image) protected(now time.Time) bool {
	return img.DeregistrationProtection || now.Before(img.ProtectedUntil)
}

// protectionState is the deregistrationProtection value DescribeImages reports.
func (img *image) protectionState(now time.Time) string {
	switch {
	case img.DeregistrationProtection && img.ProtectionCooldown:
		return "enabled-with-cooldown"
	case img.DeregistrationProtection:
		return "enabled-without-cooldown"
	case now.Before(img.ProtectedUntil):
		return "disabled-until " + formatTime(img.ProtectedUntil)
	}
	return "disabled"
}

// visibleTo reports whether account may see and launch the image: its own, public, or shared
// with it by launch permission.
func (img *image) visibleTo(account string) bool {
	if img.OwnerID == account || img.Public {
		return true
	}
	for _, lp := range img.LaunchPermissions {
		if lp.UserID == account || lp.Group == "all" {
			return true
		}
	}
	return false
}

var imageFilters = map[string]fieldFunc[*image]{
	"architecture":        func(i *image) []string { return one(i.Architecture) },
	"creation-date":       func(i *image) []string { return one(formatTime(i.CreationDate)) },
	"description":         func(i *image) []string { return one(i.Description) },
	"image-id":            func(i *image) []string { return one(i.ID) },
	"image-type":          func(*image) []string { return one("machine") },
	"is-public":           func(i *image) []string { return one(boolString(i.Public)) },
	"name":                func(i *image) []string { return one(i.Name) },
	"owner-alias":         func(i *image) []string { return one(i.OwnerAlias) },
	"owner-id":            func(i *image) []string { return one(i.OwnerID) },
	"root-device-name":    func(i *image) []string { return one(i.RootDeviceName) },
	"root-device-type":    func(*image) []string { return one("ebs") },
	"state":               func(i *image) []string { return one(i.State) },
	"virtualization-type": func(*image) []string { return one("hvm") },
	"hypervisor":          func(*image) []string { return one("xen") },
	"ena-support":         func(*image) []string { return one("true") },
	"platform-details":    func(*image) []string { return one("Linux/UNIX") },
	"boot-mode":           func(i *image) []string { return one(i.BootMode) },
	"imds-support":        func(i *image) []string { return one(i.ImdsSupport) },
	"source-image-id":     func(i *image) []string { return one(i.SourceImageID) },
	"source-image-region": func(i *image) []string { return one(i.SourceRegion) },
	"source-instance-id":  func(i *image) []string { return one(i.SourceInstanceID) },
	"block-device-mapping.snapshot-id": func(i *image) []string {
		return blockDeviceValues(i, func(b ImageBlockDevice) string { return b.SnapshotID })
	},
	"block-device-mapping.device-name": func(i *image) []string {
		return blockDeviceValues(i, func(b ImageBlockDevice) string { return b.DeviceName })
	},
	"block-device-mapping.volume-type": func(i *image) []string {
		return blockDeviceValues(i, func(b ImageBlockDevice) string { return b.VolumeType })
	},
	"block-device-mapping.volume-size": func(i *image) []string {
		return blockDeviceValues(i, func(b ImageBlockDevice) string { return fmt.Sprint(b.SizeGiB) })
	},
	"block-device-mapping.encrypted": func(i *image) []string {
		return blockDeviceValues(i, func(b ImageBlockDevice) string { return boolString(b.Encrypted) })
	},
}

func blockDeviceValues(i *image, f func(ImageBlockDevice) string) []string {
	var out []string
	for _, b := range i.BlockDevices {
		out = append(out, f(b))
	}
	return out
}

func imageTags(i *image) map[string]string { return i.Tags }

var (
	amiIDPattern  = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)
	accountIDExpr = regexp.MustCompile(`^[0-9]{12}$`)
	// AMI names: 3-128 characters of letters, digits and ( ) [ ] . / - ' @ _ and space.
	amiNamePattern = regexp.MustCompile(`^[a-zA-Z0-9()\[\]./\-'@_ ]{3,128}$`)
)

func checkImageID(id string) error {
	if id == "" {
		return errorf("MissingParameter", "The request must contain the parameter ImageId")
	}
	if !amiIDPattern.MatchString(id) {
		return errorf("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	return nil
}

// lookupImage finds an image the caller can see, with AWS's errors otherwise.
func (s *Server) lookupImage(rs *regionState, id string) (*image, error) {
	if err := checkImageID(id); err != nil {
		return nil, err
	}
	img, found := rs.images[id]
	if !found {
		if err := rs.unavailableIfDeregistered(id, time.Now()); err != nil {
			return nil, err
		}
	}
	if !found || !img.visibleTo(s.opts.AccountID) {
		return nil, errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	}
	return img, nil
}

// ownedImage finds an image the caller owns: only owners may change or remove an image.
func (s *Server) ownedImage(rs *regionState, id string) (*image, error) {
	img, err := s.lookupImage(rs, id)
	if err != nil {
		return nil, err
	}
	if img.OwnerID != s.opts.AccountID {
		return nil, errorf("AuthFailure", "Not authorized for image:%s", id)
	}
	return img, nil
}

type describeImagesResponse struct {
	ec2Response
	Images    set[xmlImage] `xml:"imagesSet"`
	NextToken string        `xml:"nextToken,omitempty"`
}

var imageListing = listing[*image]{action: "DescribeImages", fields: imageFilters, tags: imageTags, minResults: 1, maxResults: 1000}

func describeImages(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	ids := p.strings("ImageId")
	owners := p.strings("Owner")
	executableBy := p.strings("ExecutableBy")
	for _, o := range owners {
		if o != "self" && o != "amazon" && o != "aws-marketplace" && o != "aws-backup-vault" && !accountIDExpr.MatchString(o) {
			return nil, errorf("InvalidUserID.Malformed", "Invalid user id: \"%s\"", o)
		}
	}
	now := time.Now()
	var candidates []*image
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if err := checkImageID(id); err != nil {
				return nil, err
			}
			img, found := rs.images[id]
			if !found {
				// A deregistered image is listed, then answered with nothing, then not found.
				switch phase, d := rs.deregisteredPhase(id, now); phase {
				case phaseListed:
					img, found = d.img, true
				case phaseEmptyRun:
					continue
				}
			}
			if !found || !img.visibleTo(s.opts.AccountID) {
				missing = append(missing, id)
			} else if !slices.Contains(candidates, img) {
				candidates = append(candidates, img)
			}
		}
		if len(missing) > 0 {
			return nil, errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", strings.Join(missing, ", "))
		}
		slices.SortFunc(candidates, func(a, b *image) int { return cmp.Compare(a.order(), b.order()) })
	} else {
		candidates = sortedBySeq(rs.images)
		for _, d := range sortedBySeq(rs.deregistered) {
			if phase, _ := rs.deregisteredPhase(d.img.ID, now); phase == phaseListed {
				candidates = append(candidates, d.img)
			}
		}
		slices.SortFunc(candidates, func(a, b *image) int { return cmp.Compare(a.order(), b.order()) })
	}
	includeDeprecated := p.boolean("IncludeDeprecated")
	includeDisabled := p.boolean("IncludeDisabled")
	list, next, err := imageListing.page(p, len(ids) > 0, candidates, func(img *image) bool {
		switch {
		case !img.visibleTo(s.opts.AccountID):
			return false
		case len(owners) > 0 && !s.ownerMatches(img.OwnerID, img.OwnerAlias, owners):
			return false
		case len(executableBy) > 0 && !s.executableBy(img, executableBy):
			return false
		case img.deprecated(now) && !includeDeprecated && len(ids) == 0 && img.OwnerID != s.opts.AccountID:
			// AWS hides deprecated images unless asked for them, by flag or by id, but an
			// owner always sees its own.
			return false
		case img.State == "disabled" && !includeDisabled && len(ids) == 0:
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	out := &describeImagesResponse{NextToken: next}
	for _, img := range list {
		out.Images.Items = append(out.Images.Items, imageXML(img))
	}
	return out, nil
}

// ownerMatches applies the Owners parameter: self, amazon/aws-marketplace aliases or account ids.
func (s *Server) ownerMatches(ownerID, alias string, owners []string) bool {
	for _, o := range owners {
		switch {
		case o == "self" && ownerID == s.opts.AccountID:
			return true
		case o == alias && alias != "":
			return true
		case o == ownerID:
			return true
		}
	}
	return false
}

// executableBy applies ExecutableBy: "all" (public), "self" (explicitly shared with the caller,
// or its own) or an account id with explicit launch permission.
func (s *Server) executableBy(img *image, who []string) bool {
	for _, w := range who {
		switch w {
		case "all":
			if img.Public {
				return true
			}
		case "self":
			if img.OwnerID == s.opts.AccountID {
				return true
			}
			w = s.opts.AccountID
			fallthrough
		default:
			for _, lp := range img.LaunchPermissions {
				if lp.UserID == w {
					return true
				}
			}
		}
	}
	return false
}

// tagSpecifications reads TagSpecification.N for the resource types the action accepts.
func tagSpecifications(p queryParams, name string, allowed ...string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, spec := range p.list(name) {
		rt := spec.get("ResourceType")
		if !slices.Contains(allowed, rt) {
			return nil, errorf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", rt)
		}
		if out[rt] == nil {
			out[rt] = map[string]string{}
		}
		for _, t := range spec.list("Tag") {
			key := t.get("Key")
			if err := checkTagKey(key); err != nil {
				return nil, err
			}
			out[rt][key] = t.get("Value")
		}
	}
	return out, nil
}

func checkTagKey(key string) error {
	if key == "" {
		return errorf("InvalidParameterValue", "Tag key cannot be empty")
	}
	if strings.HasPrefix(strings.ToLower(key), "aws:") {
		return errorf("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
	}
	if len(key) > 128 {
		return errorf("InvalidParameterValue", "Tag key exceeds the maximum length of 128 characters")
	}
	return nil
}

func (s *Server) checkImageName(rs *regionState, name string) error {
	if name == "" {
		return errorf("MissingParameter", "The request must contain the parameter name")
	}
	if !amiNamePattern.MatchString(name) {
		return errorf("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	for _, img := range rs.images {
		if img.Name == name && img.OwnerID == s.opts.AccountID {
			return errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, img.ID)
		}
	}
	return nil
}

type imageIDResponse struct {
	ec2Response
	ImageID string `xml:"imageId"`
}

// createImage images an instance: one new snapshot per attached volume. The image is pending
// until its snapshots complete and Delays.ImagePending has passed.
func createImage(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	in, err := s.lookupInstance(rs, p.get("InstanceId"))
	if err != nil {
		return nil, err
	}
	if in.State != "running" && in.State != "stopped" {
		return nil, errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be imaged.", in.ID)
	}
	name := p.get("Name")
	if err := s.checkImageName(rs, name); err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "TagSpecification", "image", "snapshot")
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	delays := s.delays
	img := &image{seq: s.next(), Image: Image{
		ID: s.newID("ami"), Name: name, Description: p.get("Description"), OwnerID: s.opts.AccountID,
		Architecture: in.Architecture, State: "pending", CreationDate: now, Tags: cloneTags(tags["image"]),
		RootDeviceName: in.RootDeviceName, SourceInstanceID: in.ID, BootMode: "uefi-preferred", EnaSupport: in.EnaSupport,
	}, readyAt: now.Add(max(delays.ImagePending, delays.SnapshotPending))}
	if in.MetadataOptions.HTTPTokens == "required" {
		img.ImdsSupport = "v2.0"
	}
	for _, vol := range in.Volumes {
		sn := &snapshot{seq: s.next(), Snapshot: Snapshot{
			ID: s.newID("snap"), VolumeID: vol.ID, OwnerID: s.opts.AccountID, SizeGiB: vol.SizeGiB,
			State: "pending", StartTime: now, Encrypted: vol.Encrypted, KmsKeyID: vol.KmsKeyID,
			Tags: cloneTags(tags["snapshot"]), Description: fmt.Sprintf("Created by CreateImage(%s) for %s", in.ID, img.ID),
		}, readyAt: now.Add(delays.SnapshotPending)}
		rs.snapshots[sn.ID] = sn
		img.BlockDevices = append(img.BlockDevices, ImageBlockDevice{
			DeviceName: vol.DeviceName, SnapshotID: sn.ID, SizeGiB: vol.SizeGiB, VolumeType: vol.VolumeType,
			Encrypted: vol.Encrypted, KmsKeyID: vol.KmsKeyID, DeleteOnTermination: vol.DeleteOnTermination,
		})
	}
	rs.images[img.ID] = img
	return &imageIDResponse{ImageID: img.ID}, nil
}

// copyImage copies an image from SourceRegion into the request's region: new image, new
// snapshots, pending until Delays.CopyPending has passed.
func copyImage(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	srcRegion := p.get("SourceRegion")
	if srcRegion == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter SourceRegion")
	}
	if !knownRegion(srcRegion) {
		return nil, errorf("InvalidParameterValue", "Invalid region: %s", srcRegion)
	}
	src, err := s.lookupImage(s.regionLocked(srcRegion), p.get("SourceImageId"))
	if err != nil {
		return nil, err
	}
	if src.State != "available" {
		return nil, errorf("InvalidAMIID.Unavailable", "The image %s is not in a state from which it can be copied: %s", src.ID, src.State)
	}
	name := p.get("Name")
	if err := s.checkImageName(rs, name); err != nil {
		return nil, err
	}
	encrypted := p.boolean("Encrypted")
	kmsKey := p.get("KmsKeyId")
	if kmsKey != "" && !encrypted {
		return nil, errorf("InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set.")
	}
	tags, err := tagSpecifications(p, "TagSpecification", "image", "snapshot")
	if err != nil {
		return nil, err
	}
	imgTags := map[string]string{}
	if p.boolean("CopyImageTags") {
		imgTags = cloneTags(src.Tags)
	}
	for k, v := range tags["image"] {
		imgTags[k] = v
	}
	now := time.Now().UTC()
	delays := s.delays
	img := &image{seq: s.next(), Image: Image{
		ID: s.newID("ami"), Name: name, Description: p.get("Description"), OwnerID: s.opts.AccountID,
		Architecture: src.Architecture, State: "pending", CreationDate: now, Tags: imgTags,
		RootDeviceName: src.RootDeviceName, SourceImageID: src.ID, SourceRegion: srcRegion,
		BootMode: src.BootMode, ImdsSupport: src.ImdsSupport, EnaSupport: src.EnaSupport,
	}, readyAt: now.Add(max(delays.CopyPending, delays.SnapshotPending))}
	if img.Description == "" {
		img.Description = src.Description
	}
	for _, bd := range src.BlockDevices {
		enc, key := bd.Encrypted, bd.KmsKeyID
		if encrypted || bd.Encrypted {
			// A copy of an encrypted snapshot is encrypted too. KMS keys are regional, so a copy
			// never keeps its source's key: it gets the key named, else the region's aws/ebs key.
			enc, key = true, s.ebsKeyARN(rs, kmsKey)
		}
		sn := &snapshot{seq: s.next(), Snapshot: Snapshot{
			ID: s.newID("snap"), VolumeID: "vol-ffffffff", OwnerID: s.opts.AccountID, SizeGiB: bd.SizeGiB,
			State: "pending", StartTime: now, Encrypted: enc, KmsKeyID: key, Tags: cloneTags(tags["snapshot"]),
			Description: fmt.Sprintf("Copied for DestinationAmi %s from SourceAmi %s for SourceSnapshot %s. Task created on %s.",
				img.ID, src.ID, bd.SnapshotID, formatTime(now)),
		}, readyAt: now.Add(delays.SnapshotPending)}
		rs.snapshots[sn.ID] = sn
		bd.SnapshotID, bd.Encrypted, bd.KmsKeyID = sn.ID, enc, key
		img.BlockDevices = append(img.BlockDevices, bd)
	}
	rs.images[img.ID] = img
	return &imageIDResponse{ImageID: img.ID}, nil
}

type deregisterImageResponse struct {
	ec2Response
	Return          bool                       `xml:"return"`
	DeletedSnapshot *set[xmlDeleteSnapshotRes] `xml:"deleteSnapshotResultSet"`
}

type xmlDeleteSnapshotRes struct {
	SnapshotID string `xml:"snapshotId"`
	ReturnCode string `xml:"returnCode"`
}

// deregisterImage removes an image, refusing while deregistration protection holds. Its
// snapshots stay unless DeleteAssociatedSnapshots asks otherwise.
func deregisterImage(s *Server, rs *regionState, req *request) (any, error) {
	img, err := s.ownedImage(rs, req.params.get("ImageId"))
	if err != nil {
		return nil, err
	}
	if img.protected(time.Now()) {
		return nil, errorf("OperationNotPermitted", "The AMI %s has deregistration protection enabled; disable it before deregistering the AMI.", img.ID)
	}
	delete(rs.images, img.ID)
	s.deregistered(rs, img, time.Now())
	out := &deregisterImageResponse{Return: true}
	if req.params.boolean("DeleteAssociatedSnapshots") {
		out.DeletedSnapshot = &set[xmlDeleteSnapshotRes]{}
		for _, bd := range img.BlockDevices {
			code := "success"
			if rs.snapshotInUse(bd.SnapshotID) != "" {
				code = "client-error"
			} else {
				delete(rs.snapshots, bd.SnapshotID)
			}
			out.DeletedSnapshot.Items = append(out.DeletedSnapshot.Items, xmlDeleteSnapshotRes{SnapshotID: bd.SnapshotID, ReturnCode: code})
		}
	}
	return out, nil
}

// modifyImageAttribute changes the description or the launch permissions of an image.
func modifyImageAttribute(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	img, err := s.ownedImage(rs, p.get("ImageId"))
	if err != nil {
		return nil, err
	}
	attr := p.get("Attribute")
	if p.has("ImdsSupport.Value") || attr == "imdsSupport" {
		// AWS accepts only v2.0, and once set it stays: no value turns it off again.
		value := p.get("ImdsSupport.Value")
		if value == "" {
			value = p.get("Value")
		}
		if value != "v2.0" {
			return nil, errorf("InvalidParameterValue", "Value (%s) for parameter imdsSupport is invalid. Supported values: v2.0.", value)
		}
		img.ImdsSupport = value
		return &xmlEmpty{}, nil
	}
	if p.has("Description.Value") || attr == "description" {
		value := p.get("Description.Value")
		if value == "" {
			value = p.get("Value")
		}
		img.Description = value
		return &xmlEmpty{}, nil
	}
	if attr != "" && attr != "launchPermission" {
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unsupported attribute.", attr)
	}
	var add, remove []LaunchPermission
	for _, lp := range p.list("LaunchPermission.Add") {
		add = append(add, readLaunchPermission(lp))
	}
	for _, lp := range p.list("LaunchPermission.Remove") {
		remove = append(remove, readLaunchPermission(lp))
	}
	var flat []LaunchPermission
	for _, u := range p.strings("UserId") {
		flat = append(flat, LaunchPermission{UserID: u})
	}
	for _, g := range p.strings("UserGroup") {
		flat = append(flat, LaunchPermission{Group: g})
	}
	for _, a := range p.strings("OrganizationArn") {
		flat = append(flat, LaunchPermission{OrganizationArn: a})
	}
	for _, a := range p.strings("OrganizationalUnitArn") {
		flat = append(flat, LaunchPermission{OrganizationalUnitArn: a})
	}
	switch p.get("OperationType") {
	case "add":
		add = append(add, flat...)
	case "remove":
		remove = append(remove, flat...)
	case "":
		if len(flat) > 0 {
			return nil, errorf("MissingParameter", "The request must contain the parameter operationType")
		}
	default:
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter operationType is invalid.", p.get("OperationType"))
	}
	if len(add)+len(remove) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter launchPermission")
	}
	for _, lp := range append(slices.Clone(add), remove...) {
		if err := checkLaunchPermission(lp); err != nil {
			return nil, err
		}
	}
	for _, lp := range add {
		if lp.Group == "all" {
			img.Public = true
			continue
		}
		if !slices.Contains(img.LaunchPermissions, lp) {
			img.LaunchPermissions = append(img.LaunchPermissions, lp)
		}
	}
	for _, lp := range remove {
		if lp.Group == "all" {
			img.Public = false
			continue
		}
		img.LaunchPermissions = slices.DeleteFunc(img.LaunchPermissions, func(x LaunchPermission) bool { return x == lp })
	}
	return &xmlEmpty{}, nil
}

func readLaunchPermission(p queryParams) LaunchPermission {
	return LaunchPermission{UserID: p.get("UserId"), Group: p.get("Group"),
		OrganizationArn: p.get("OrganizationArn"), OrganizationalUnitArn: p.get("OrganizationalUnitArn")}
}

var (
	orgArnPattern = regexp.MustCompile(`^arn:aws:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}$`)
	ouArnPattern  = regexp.MustCompile(`^arn:aws:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
)

func checkLaunchPermission(lp LaunchPermission) error {
	switch {
	case lp.UserID != "":
		if !accountIDExpr.MatchString(lp.UserID) {
			return errorf("InvalidAMIAttributeItemValue", "Invalid attribute item value \"%s\" for userId item type.", lp.UserID)
		}
	case lp.Group != "":
		if lp.Group != "all" {
			return errorf("InvalidAMIAttributeItemValue", "Invalid attribute item value \"%s\" for group item type.", lp.Group)
		}
	case lp.OrganizationArn != "":
		if !orgArnPattern.MatchString(lp.OrganizationArn) {
			return errorf("InvalidParameter", "The organization ARN %s is not valid.", lp.OrganizationArn)
		}
	case lp.OrganizationalUnitArn != "":
		if !ouArnPattern.MatchString(lp.OrganizationalUnitArn) {
			return errorf("InvalidParameter", "The organizational unit ARN %s is not valid.", lp.OrganizationalUnitArn)
		}
	default:
		return errorf("InvalidParameterValue", "A launch permission must name a user id, a group, an organization or an organizational unit")
	}
	return nil
}

type xmlLaunchPermission struct {
	Group                 string `xml:"group,omitempty"`
	UserID                string `xml:"userId,omitempty"`
	OrganizationArn       string `xml:"organizationArn,omitempty"`
	OrganizationalUnitArn string `xml:"organizationalUnitArn,omitempty"`
}

type xmlValue struct {
	Value string `xml:"value"`
}

type describeImageAttributeResponse struct {
	ec2Response
	ImageID            string                    `xml:"imageId"`
	LaunchPermission   *set[xmlLaunchPermission] `xml:"launchPermission"`
	Description        *xmlValue                 `xml:"description"`
	LastLaunchedTime   *xmlValue                 `xml:"lastLaunchedTime"`
	BootMode           *xmlValue                 `xml:"bootMode"`
	ImdsSupport        *xmlValue                 `xml:"imdsSupport"`
	BlockDeviceMapping *xmlBlockDeviceSet        `xml:"blockDeviceMapping"`
	DeregistrationProt *xmlValue                 `xml:"deregistrationProtection"`
}

func describeImageAttribute(s *Server, rs *regionState, req *request) (any, error) {
	img, err := s.lookupImage(rs, req.params.get("ImageId"))
	if err != nil {
		return nil, err
	}
	out := &describeImageAttributeResponse{ImageID: img.ID}
	switch attr := req.params.get("Attribute"); attr {
	case "launchPermission":
		if img.OwnerID != s.opts.AccountID {
			return nil, errorf("AuthFailure", "Not authorized for image:%s", img.ID)
		}
		perms := &set[xmlLaunchPermission]{}
		if img.Public {
			perms.Items = append(perms.Items, xmlLaunchPermission{Group: "all"})
		}
		for _, lp := range img.LaunchPermissions {
			perms.Items = append(perms.Items, xmlLaunchPermission{Group: lp.Group, UserID: lp.UserID,
				OrganizationArn: lp.OrganizationArn, OrganizationalUnitArn: lp.OrganizationalUnitArn})
		}
		out.LaunchPermission = perms
	case "description":
		out.Description = &xmlValue{img.Description}
	case "lastLaunchedTime":
		out.LastLaunchedTime = &xmlValue{formatTime(img.LastLaunchedTime)}
	case "bootMode":
		out.BootMode = &xmlValue{img.BootMode}
	case "imdsSupport":
		out.ImdsSupport = &xmlValue{img.ImdsSupport}
	case "blockDeviceMapping":
		out.BlockDeviceMapping = imageXML(img).BlockDeviceMapping
	case "deregistrationProtection":
		out.DeregistrationProt = &xmlValue{img.protectionState(time.Now())}
	case "":
		return nil, errorf("MissingParameter", "The request must contain the parameter attribute")
	default:
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	return out, nil
}

// enableImageDeprecation sets the deprecation time, rounded to the minute as AWS does.
func enableImageDeprecation(s *Server, rs *regionState, req *request) (any, error) {
	img, err := s.ownedImage(rs, req.params.get("ImageId"))
	if err != nil {
		return nil, err
	}
	raw := req.params.get("DeprecateAt")
	if raw == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter DeprecateAt")
	}
	at, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter DeprecateAt is invalid.", raw)
	}
	// EC2 keeps the time to the minute, rounding the seconds, and refuses one that is not ahead.
	at = at.UTC().Round(time.Minute)
	if !at.After(time.Now()) {
		return nil, errorf("InvalidParameterValue", "The deprecation time must be in the future: %s.", formatTime(at))
	}
	if at.After(time.Now().AddDate(10, 0, 0)) {
		return nil, errorf("InvalidParameterValue", "The deprecation time cannot be more than 10 years in the future.")
	}
	img.DeprecationTime = at
	return ok(), nil
}

func disableImageDeprecation(s *Server, rs *regionState, req *request) (any, error) {
	img, err := s.ownedImage(rs, req.params.get("ImageId"))
	if err != nil {
		return nil, err
	}
	img.DeprecationTime = time.Time{}
	return ok(), nil
}

type protectionResponse struct {
	ec2Response
	Return string `xml:"return"`
}

func enableImageDeregistrationProtection(s *Server, rs *regionState, req *request) (any, error) {
	img, err := s.ownedImage(rs, req.params.get("ImageId"))
	if err != nil {
		return nil, err
	}
	img.DeregistrationProtection = true
	img.ProtectionCooldown = req.params.boolean("WithCooldown")
	img.ProtectedUntil = time.Time{}
	return &protectionResponse{Return: "true"}, nil
}

// disableImageDeregistrationProtection lifts protection; with a cooldown it holds 24h more.
func disableImageDeregistrationProtection(s *Server, rs *regionState, req *request) (any, error) {
	img, err := s.ownedImage(rs, req.params.get("ImageId"))
	if err != nil {
		return nil, err
	}
	if img.DeregistrationProtection && img.ProtectionCooldown {
		img.ProtectedUntil = time.Now().UTC().Add(protectionCooldown)
	}
	img.DeregistrationProtection = false
	img.ProtectionCooldown = false
	return &protectionResponse{Return: "true"}, nil
}
