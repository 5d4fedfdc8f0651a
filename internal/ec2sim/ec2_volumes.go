package ec2sim

import (
	"fmt"
	"slices"
)

// DescribeVolumes: the EBS volumes of instances. Volumes exist only as part of an instance;
// those deleted on termination disappear with it, the others stay "available".

type volumeRef struct {
	in  *instance
	vol *Volume
}

func (r volumeRef) status() string {
	if r.in.State == "terminated" {
		return "available"
	}
	return "in-use"
}

var volumeFilters = map[string]fieldFunc[volumeRef]{
	"volume-id":         func(r volumeRef) []string { return one(r.vol.ID) },
	"volume-type":       func(r volumeRef) []string { return one(r.vol.VolumeType) },
	"size":              func(r volumeRef) []string { return one(fmt.Sprint(r.vol.SizeGiB)) },
	"snapshot-id":       func(r volumeRef) []string { return one(r.vol.SnapshotID) },
	"encrypted":         func(r volumeRef) []string { return one(boolString(r.vol.Encrypted)) },
	"status":            func(r volumeRef) []string { return one(r.status()) },
	"availability-zone": func(r volumeRef) []string { return one(r.in.AvailabilityZone) },
	"attachment.instance-id": func(r volumeRef) []string {
		if r.status() != "in-use" {
			return nil
		}
		return one(r.in.ID)
	},
	"attachment.device": func(r volumeRef) []string { return one(r.vol.DeviceName) },
	"attachment.delete-on-termination": func(r volumeRef) []string {
		return one(boolString(r.vol.DeleteOnTermination))
	},
}

type xmlVolumeAttachment struct {
	VolumeID            string `xml:"volumeId"`
	InstanceID          string `xml:"instanceId"`
	Device              string `xml:"device"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xmlVolume struct {
	VolumeID         string                   `xml:"volumeId"`
	Size             int32                    `xml:"size"`
	SnapshotID       string                   `xml:"snapshotId"`
	AvailabilityZone string                   `xml:"availabilityZone"`
	Status           string                   `xml:"status"`
	CreateTime       string                   `xml:"createTime"`
	Attachments      set[xmlVolumeAttachment] `xml:"attachmentSet"`
	TagSet           *xmlTagSet               `xml:"tagSet"`
	VolumeType       string                   `xml:"volumeType"`
	Encrypted        bool                     `xml:"encrypted"`
	KmsKeyID         string                   `xml:"kmsKeyId,omitempty"`
}

type describeVolumesResponse struct {
	ec2Response
	Volumes   set[xmlVolume] `xml:"volumeSet"`
	NextToken string         `xml:"nextToken,omitempty"`
}

func describeVolumes(s *Server, rs *regionState, req *request) (any, error) {
	ids := req.params.strings("VolumeId")
	var all []volumeRef
	for _, in := range sortedBySeq(rs.instances) {
		for i := range in.Volumes {
			v := &in.Volumes[i]
			if in.State == "terminated" && v.DeleteOnTermination {
				continue
			}
			all = append(all, volumeRef{in, v})
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(all, func(r volumeRef) bool { return r.vol.ID == id }) {
			return nil, errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
		}
	}
	l := listing[volumeRef]{action: "DescribeVolumes", fields: volumeFilters, tags: func(r volumeRef) map[string]string { return r.vol.Tags },
		minResults: 5, maxResults: 500}
	list, next, err := l.page(req.params, len(ids) > 0, all, func(r volumeRef) bool { return len(ids) == 0 || slices.Contains(ids, r.vol.ID) })
	if err != nil {
		return nil, err
	}
	out := &describeVolumesResponse{NextToken: next}
	for _, r := range list {
		x := xmlVolume{VolumeID: r.vol.ID, Size: r.vol.SizeGiB, SnapshotID: r.vol.SnapshotID, AvailabilityZone: r.in.AvailabilityZone,
			Status: r.status(), CreateTime: formatTime(r.in.LaunchTime), TagSet: tagSet(r.vol.Tags), VolumeType: r.vol.VolumeType,
			Encrypted: r.vol.Encrypted, KmsKeyID: r.vol.KmsKeyID}
		if r.status() == "in-use" {
			x.Attachments.Items = []xmlVolumeAttachment{{VolumeID: r.vol.ID, InstanceID: r.in.ID, Device: r.vol.DeviceName,
				Status: "attached", AttachTime: formatTime(r.in.LaunchTime), DeleteOnTermination: r.vol.DeleteOnTermination}}
		}
		out.Volumes.Items = append(out.Volumes.Items, x)
	}
	return out, nil
}
