package ec2sim

import (
	"sort"
	"time"
)

// The XML shapes of EC2 responses. Element names are those the SDK's EC2 Query deserializer
// reads; lists are wrapped in "...Set" elements of <item>s.

// awsTime is how EC2 prints timestamps: UTC with milliseconds.
const awsTime = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(awsTime)
}

type xmlTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type xmlTagSet struct {
	Items []xmlTag `xml:"item"`
}

func tagSet(tags map[string]string) *xmlTagSet {
	if len(tags) == 0 {
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	set := &xmlTagSet{}
	for _, k := range keys {
		set.Items = append(set.Items, xmlTag{Key: k, Value: tags[k]})
	}
	return set
}

type xmlImage struct {
	ImageID                  string              `xml:"imageId"`
	ImageLocation            string              `xml:"imageLocation"`
	ImageState               string              `xml:"imageState"`
	ImageOwnerID             string              `xml:"imageOwnerId"`
	CreationDate             string              `xml:"creationDate"`
	IsPublic                 bool                `xml:"isPublic"`
	Architecture             string              `xml:"architecture"`
	ImageType                string              `xml:"imageType"`
	ImageOwnerAlias          string              `xml:"imageOwnerAlias,omitempty"`
	Name                     string              `xml:"name"`
	Description              string              `xml:"description,omitempty"`
	RootDeviceType           string              `xml:"rootDeviceType"`
	RootDeviceName           string              `xml:"rootDeviceName"`
	BlockDeviceMapping       *xmlBlockDeviceSet  `xml:"blockDeviceMapping"`
	VirtualizationType       string              `xml:"virtualizationType"`
	TagSet                   *xmlTagSet          `xml:"tagSet"`
	Hypervisor               string              `xml:"hypervisor"`
	EnaSupport               bool                `xml:"enaSupport"`
	PlatformDetails          string              `xml:"platformDetails"`
	UsageOperation           string              `xml:"usageOperation"`
	BootMode                 string              `xml:"bootMode,omitempty"`
	ImdsSupport              string              `xml:"imdsSupport,omitempty"`
	DeprecationTime          string              `xml:"deprecationTime,omitempty"`
	DeregistrationProtection string              `xml:"deregistrationProtection,omitempty"`
	LastLaunchedTime         string              `xml:"lastLaunchedTime,omitempty"`
	SourceImageID            string              `xml:"sourceImageId,omitempty"`
	SourceImageRegion        string              `xml:"sourceImageRegion,omitempty"`
	SourceInstanceID         string              `xml:"sourceInstanceId,omitempty"`
	StateReason              *xmlStateReasonCode `xml:"stateReason"`
}

type xmlStateReasonCode struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type xmlBlockDeviceSet struct {
	Items []xmlBlockDevice `xml:"item"`
}

type xmlBlockDevice struct {
	DeviceName string       `xml:"deviceName"`
	Ebs        *xmlEbsBlock `xml:"ebs"`
}

type xmlEbsBlock struct {
	SnapshotID          string `xml:"snapshotId,omitempty"`
	VolumeSize          int32  `xml:"volumeSize"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
	VolumeType          string `xml:"volumeType"`
	Encrypted           bool   `xml:"encrypted"`
	KmsKeyID            string `xml:"kmsKeyId,omitempty"`
}

func imageXML(img *image) xmlImage {
	x := xmlImage{
		ImageID: img.ID, ImageLocation: img.OwnerID + "/" + img.Name, ImageState: img.State,
		ImageOwnerID: img.OwnerID, CreationDate: formatTime(img.CreationDate), IsPublic: img.Public,
		Architecture: img.Architecture, ImageType: "machine", ImageOwnerAlias: img.OwnerAlias,
		Name: img.Name, Description: img.Description, RootDeviceType: "ebs", RootDeviceName: img.RootDeviceName,
		VirtualizationType: "hvm", TagSet: tagSet(img.Tags), Hypervisor: "xen", EnaSupport: img.EnaSupport,
		PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", BootMode: img.BootMode,
		ImdsSupport: img.ImdsSupport, DeprecationTime: formatTime(img.DeprecationTime),
		DeregistrationProtection: img.protectionState(time.Now()), LastLaunchedTime: formatTime(img.LastLaunchedTime),
		SourceImageID: img.SourceImageID, SourceImageRegion: img.SourceRegion, SourceInstanceID: img.SourceInstanceID,
	}
	if img.OwnerAlias != "" {
		x.ImageLocation = img.OwnerAlias + "/" + img.Name
	}
	if img.State == "failed" {
		x.StateReason = &xmlStateReasonCode{Code: "Client.ImageFailed", Message: "Image creation failed"}
	}
	x.BlockDeviceMapping = &xmlBlockDeviceSet{}
	for _, bd := range img.BlockDevices {
		x.BlockDeviceMapping.Items = append(x.BlockDeviceMapping.Items, xmlBlockDevice{
			DeviceName: bd.DeviceName,
			Ebs: &xmlEbsBlock{SnapshotID: bd.SnapshotID, VolumeSize: bd.SizeGiB, DeleteOnTermination: bd.DeleteOnTermination,
				VolumeType: bd.VolumeType, Encrypted: bd.Encrypted, KmsKeyID: bd.KmsKeyID},
		})
	}
	return x
}

type xmlSnapshot struct {
	SnapshotID  string     `xml:"snapshotId"`
	VolumeID    string     `xml:"volumeId"`
	Status      string     `xml:"status"`
	StartTime   string     `xml:"startTime"`
	Progress    string     `xml:"progress"`
	OwnerID     string     `xml:"ownerId"`
	OwnerAlias  string     `xml:"ownerAlias,omitempty"`
	VolumeSize  int32      `xml:"volumeSize"`
	Description string     `xml:"description"`
	Encrypted   bool       `xml:"encrypted"`
	KmsKeyID    string     `xml:"kmsKeyId,omitempty"`
	StorageTier string     `xml:"storageTier"`
	TagSet      *xmlTagSet `xml:"tagSet"`
}

func snapshotXML(sn *snapshot) xmlSnapshot {
	progress := "100%"
	if sn.State == "pending" {
		progress = "0%"
	}
	return xmlSnapshot{
		SnapshotID: sn.ID, VolumeID: sn.VolumeID, Status: sn.State, StartTime: formatTime(sn.StartTime),
		Progress: progress, OwnerID: sn.OwnerID, OwnerAlias: sn.OwnerAlias, VolumeSize: sn.SizeGiB,
		Description: sn.Description, Encrypted: sn.Encrypted, KmsKeyID: sn.KmsKeyID, StorageTier: "standard",
		TagSet: tagSet(sn.Tags),
	}
}

// set is an EC2 list: a wrapper element holding <item>s. As a value field it is written even
// when empty, as AWS does for the main list of a Describe response.
type set[T any] struct {
	Items []T `xml:"item"`
}

type xmlReturn struct {
	ec2Response
	Return bool `xml:"return"`
}

func ok() *xmlReturn { return &xmlReturn{Return: true} }

type xmlEmpty struct {
	ec2Response
}
