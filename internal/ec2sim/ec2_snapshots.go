package ec2sim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var snapshotIDPattern = regexp.MustCompile(`^snap-([0-9a-f]{8}|[0-9a-f]{17})$`)

func (sn *snapshot) visibleTo(account string) bool {
	if sn.OwnerID == account {
		return true
	}
	for _, p := range sn.CreateVolumePermissions {
		if p.Group == "all" || p.UserID == account {
			return true
		}
	}
	return false
}

// snapshotInUse returns the id of an image backed by the snapshot, or "".
func (rs *regionState) snapshotInUse(id string) string {
	for _, img := range sortedBySeq(rs.images) {
		for _, bd := range img.BlockDevices {
			if bd.SnapshotID == id {
				return img.ID
			}
		}
	}
	return ""
}

func (s *Server) lookupSnapshot(rs *regionState, id string) (*snapshot, error) {
	if id == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter SnapshotId")
	}
	if !snapshotIDPattern.MatchString(id) {
		return nil, errorf("InvalidSnapshotID.Malformed", "Invalid id: \"%s\" (expecting \"snap-...\")", id)
	}
	sn, found := rs.snapshots[id]
	if !found || !sn.visibleTo(s.opts.AccountID) {
		return nil, errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	}
	return sn, nil
}

func (s *Server) ownedSnapshot(rs *regionState, id string) (*snapshot, error) {
	sn, err := s.lookupSnapshot(rs, id)
	if err != nil {
		return nil, err
	}
	if sn.OwnerID != s.opts.AccountID {
		return nil, errorf("AuthFailure", "Not authorized for snapshot:%s", id)
	}
	return sn, nil
}

var snapshotFilters = map[string]fieldFunc[*snapshot]{
	"description": func(sn *snapshot) []string { return one(sn.Description) },
	"encrypted":   func(sn *snapshot) []string { return one(boolString(sn.Encrypted)) },
	"owner-alias": func(sn *snapshot) []string { return one(sn.OwnerAlias) },
	"owner-id":    func(sn *snapshot) []string { return one(sn.OwnerID) },
	"progress": func(sn *snapshot) []string {
		if sn.State == "pending" {
			return one("0%")
		}
		return one("100%")
	},
	"snapshot-id":  func(sn *snapshot) []string { return one(sn.ID) },
	"start-time":   func(sn *snapshot) []string { return one(formatTime(sn.StartTime)) },
	"status":       func(sn *snapshot) []string { return one(sn.State) },
	"storage-tier": func(*snapshot) []string { return one("standard") },
	"volume-id":    func(sn *snapshot) []string { return one(sn.VolumeID) },
	"volume-size":  func(sn *snapshot) []string { return one(fmt.Sprint(sn.SizeGiB)) },
}

func snapshotTags(sn *snapshot) map[string]string { return sn.Tags }

type describeSnapshotsResponse struct {
	ec2Response
	Snapshots set[xmlSnapshot] `xml:"snapshotSet"`
	NextToken string           `xml:"nextToken,omitempty"`
}

var snapshotListing = listing[*snapshot]{action: "DescribeSnapshots", fields: snapshotFilters, tags: snapshotTags, minResults: 5, maxResults: 1000}

func describeSnapshots(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	ids := p.strings("SnapshotId")
	owners := p.strings("Owner")
	restorableBy := p.strings("RestorableBy")
	candidates := sortedBySeq(rs.snapshots)
	if len(ids) > 0 {
		candidates = nil
		for _, id := range ids {
			sn, err := s.lookupSnapshot(rs, id)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(candidates, sn) {
				candidates = append(candidates, sn)
			}
		}
	}
	list, next, err := snapshotListing.page(p, len(ids) > 0, candidates, func(sn *snapshot) bool {
		return sn.visibleTo(s.opts.AccountID) &&
			(len(owners) == 0 || s.ownerMatches(sn.OwnerID, sn.OwnerAlias, owners)) &&
			(len(restorableBy) == 0 || restorable(sn, restorableBy, s.opts.AccountID))
	})
	if err != nil {
		return nil, err
	}
	out := &describeSnapshotsResponse{NextToken: next}
	for _, sn := range list {
		out.Snapshots.Items = append(out.Snapshots.Items, snapshotXML(sn))
	}
	return out, nil
}

func restorable(sn *snapshot, by []string, account string) bool {
	for _, who := range by {
		if who == "self" {
			who = account
		}
		if sn.OwnerID == who {
			return true
		}
		for _, p := range sn.CreateVolumePermissions {
			if p.Group == "all" || p.UserID == who {
				return true
			}
		}
	}
	return false
}

// deleteSnapshot refuses while an image is backed by the snapshot, as AWS does.
func deleteSnapshot(s *Server, rs *regionState, req *request) (any, error) {
	sn, err := s.ownedSnapshot(rs, req.params.get("SnapshotId"))
	if err != nil {
		return nil, err
	}
	if imageID := rs.snapshotInUse(sn.ID); imageID != "" {
		return nil, errorf("InvalidSnapshot.InUse", "The snapshot %s is currently in use by %s", sn.ID, imageID)
	}
	delete(rs.snapshots, sn.ID)
	return ok(), nil
}

func modifySnapshotAttribute(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	sn, err := s.ownedSnapshot(rs, p.get("SnapshotId"))
	if err != nil {
		return nil, err
	}
	if attr := p.get("Attribute"); attr != "" && attr != "createVolumePermission" {
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter attribute is invalid.", attr)
	}
	var add, remove []CreateVolumePermission
	for _, c := range p.list("CreateVolumePermission.Add") {
		add = append(add, CreateVolumePermission{UserID: c.get("UserId"), Group: c.get("Group")})
	}
	for _, c := range p.list("CreateVolumePermission.Remove") {
		remove = append(remove, CreateVolumePermission{UserID: c.get("UserId"), Group: c.get("Group")})
	}
	var flat []CreateVolumePermission
	for _, u := range p.strings("UserId") {
		flat = append(flat, CreateVolumePermission{UserID: u})
	}
	for _, g := range p.strings("UserGroup") {
		flat = append(flat, CreateVolumePermission{Group: g})
	}
	switch strings.ToLower(p.get("OperationType")) {
	case "add":
		add = append(add, flat...)
	case "remove":
		remove = append(remove, flat...)
	}
	if len(add)+len(remove) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter createVolumePermission")
	}
	for _, c := range append(slices.Clone(add), remove...) {
		if c.UserID != "" && !accountIDExpr.MatchString(c.UserID) {
			return nil, errorf("InvalidParameterValue", "Invalid user id: %s", c.UserID)
		}
		if c.Group != "" && c.Group != "all" {
			return nil, errorf("InvalidParameterValue", "Invalid group: %s", c.Group)
		}
		if c.Group == "all" && sn.Encrypted {
			return nil, errorf("OperationNotPermitted", "Encrypted snapshots cannot be made public")
		}
	}
	// AWS refuses to share a snapshot encrypted with the AWS managed key: no other account can
	// ever use that key.
	if len(add) > 0 && sn.Encrypted && s.isEBSManagedKey(rs, sn.KmsKeyID) {
		return nil, errorf("OperationNotPermitted", "Snapshots encrypted with the AWS managed key (%s) cannot be shared", EBSManagedKeyAlias)
	}
	for _, c := range add {
		if !slices.Contains(sn.CreateVolumePermissions, c) {
			sn.CreateVolumePermissions = append(sn.CreateVolumePermissions, c)
		}
	}
	for _, c := range remove {
		sn.CreateVolumePermissions = slices.DeleteFunc(sn.CreateVolumePermissions, func(x CreateVolumePermission) bool { return x == c })
	}
	return &xmlEmpty{}, nil
}

type xmlCreateVolumePermission struct {
	Group  string `xml:"group,omitempty"`
	UserID string `xml:"userId,omitempty"`
}

type describeSnapshotAttributeResponse struct {
	ec2Response
	SnapshotID             string                          `xml:"snapshotId"`
	CreateVolumePermission *set[xmlCreateVolumePermission] `xml:"createVolumePermission"`
	ProductCodes           *set[struct{}]                  `xml:"productCodes"`
}

func describeSnapshotAttribute(s *Server, rs *regionState, req *request) (any, error) {
	sn, err := s.ownedSnapshot(rs, req.params.get("SnapshotId"))
	if err != nil {
		return nil, err
	}
	out := &describeSnapshotAttributeResponse{SnapshotID: sn.ID}
	switch attr := req.params.get("Attribute"); attr {
	case "createVolumePermission":
		out.CreateVolumePermission = &set[xmlCreateVolumePermission]{}
		for _, c := range sn.CreateVolumePermissions {
			out.CreateVolumePermission.Items = append(out.CreateVolumePermission.Items, xmlCreateVolumePermission{Group: c.Group, UserID: c.UserID})
		}
	case "productCodes":
		out.ProductCodes = &set[struct{}]{}
	default:
		return nil, errorf("InvalidParameterValue", "Value (%s) for parameter attribute is invalid.", attr)
	}
	return out, nil
}
