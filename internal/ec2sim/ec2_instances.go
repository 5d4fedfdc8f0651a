package ec2sim

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	instanceIDPattern   = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	instanceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
)

var stateCodes = map[string]int{
	"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80,
}

func (s *Server) lookupInstance(rs *regionState, id string) (*instance, error) {
	if id == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	if !instanceIDPattern.MatchString(id) {
		return nil, errorf("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
	}
	in, found := rs.instances[id]
	if !found {
		return nil, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	}
	return in, nil
}

// lookupInstances resolves a list of ids, naming every missing one in the error as AWS does.
func (s *Server) lookupInstances(rs *regionState, ids []string) ([]*instance, error) {
	var out []*instance
	var missing []string
	for _, id := range ids {
		if !instanceIDPattern.MatchString(id) {
			return nil, errorf("InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
		in, found := rs.instances[id]
		if !found {
			missing = append(missing, id)
			continue
		}
		if !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	if len(missing) == 1 {
		return nil, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	}
	if len(missing) > 1 {
		return nil, errorf("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
	}
	slices.SortFunc(out, func(a, b *instance) int { return int(a.seq.seq - b.seq.seq) })
	return out, nil
}

// setState moves an instance into state; transitional states end after their delay.
func (s *Server) setState(in *instance, state string, now time.Time) {
	in.State = state
	switch state {
	case "pending":
		in.transitionAt = now.Add(s.delays.InstancePending)
	case "stopping":
		in.transitionAt = now.Add(s.delays.InstanceStopping)
	case "shutting-down":
		in.transitionAt = now.Add(s.delays.InstanceShuttingDown)
	}
	s.setAddresses(in)
}

// runInstances launches MaxCount instances from an available image. Everything the request
// names must exist: image, key pair, security groups, subnet.
func runInstances(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	imageID, instanceType, keyName := p.get("ImageId"), p.get("InstanceType"), p.get("KeyName")
	groupIDs := p.strings("SecurityGroupId")
	groupNames := p.strings("SecurityGroup")
	userData := p.get("UserData")
	var ltID, ltVersion string
	if p.has("LaunchTemplate") {
		lt, version, err := s.templateVersion(rs, p.sub("LaunchTemplate"))
		if err != nil {
			return nil, err
		}
		ltID, ltVersion = lt.ID, strconv.FormatInt(version.Number, 10)
		d := version.Data
		imageID = firstNonEmpty(imageID, d.ImageID)
		instanceType = firstNonEmpty(instanceType, d.InstanceType)
		keyName = firstNonEmpty(keyName, d.KeyName)
		userData = firstNonEmpty(userData, d.UserData)
		if len(groupIDs) == 0 {
			groupIDs = d.SecurityGroupIDs
		}
	}
	if strings.HasPrefix(imageID, "resolve:ssm:") {
		resolved, err := s.resolveImageAlias(rs, imageID)
		if err != nil {
			return nil, err
		}
		imageID = resolved
	}
	img, err := s.lookupImage(rs, imageID)
	if err != nil {
		return nil, err
	}
	if img.State != "available" {
		return nil, errorf("InvalidAMIID.Unavailable", "The image id '[%s]' is not available: %s", img.ID, img.State)
	}
	if instanceType == "" {
		instanceType = "m1.small"
	}
	if !instanceTypePattern.MatchString(instanceType) {
		return nil, errorf("InvalidParameterValue", "Invalid value '%s' for InstanceType.", instanceType)
	}
	if arch := architectureOf(instanceType); arch != img.Architecture {
		return nil, errorf("InvalidParameterValue", "The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.", arch, img.Architecture)
	}
	if keyName != "" {
		if _, found := rs.keyPairs[keyName]; !found {
			return nil, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", keyName)
		}
	}
	minCount, _, err := p.integer("MinCount")
	if err != nil {
		return nil, err
	}
	maxCount, _, err := p.integer("MaxCount")
	if err != nil {
		return nil, err
	}
	if minCount < 1 || maxCount < minCount {
		return nil, errorf("InvalidParameterValue", "MinCount and MaxCount must be at least 1 and MinCount at most MaxCount")
	}
	sn, err := s.launchSubnet(rs, p)
	if err != nil {
		return nil, err
	}
	groups, err := s.launchGroups(rs, sn.vpcID, groupIDs, groupNames)
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecifications(p, "TagSpecification", "instance", "volume", "network-interface")
	if err != nil {
		return nil, err
	}
	meta := MetadataOptions{HTTPTokens: "optional", HTTPEndpoint: "enabled", HTTPPutResponseHopLimit: 1, InstanceMetadataTags: "disabled"}
	if img.ImdsSupport == "v2.0" {
		meta.HTTPTokens, meta.HTTPPutResponseHopLimit = "required", 2
	}
	mo := p.sub("MetadataOptions")
	meta.HTTPTokens = firstNonEmpty(mo.get("HttpTokens"), meta.HTTPTokens)
	meta.HTTPEndpoint = firstNonEmpty(mo.get("HttpEndpoint"), meta.HTTPEndpoint)
	meta.InstanceMetadataTags = firstNonEmpty(mo.get("InstanceMetadataTags"), meta.InstanceMetadataTags)
	if n, set, err := mo.integer("HttpPutResponseHopLimit"); err != nil {
		return nil, err
	} else if set {
		meta.HTTPPutResponseHopLimit = int32(n)
	}
	if meta.HTTPTokens != "optional" && meta.HTTPTokens != "required" {
		return nil, errorf("InvalidParameterValue", "The HttpTokens '%s' is not valid.", meta.HTTPTokens)
	}
	mappings, err := readBlockDeviceMappings(p.list("BlockDeviceMapping"))
	if err != nil {
		return nil, err
	}
	lifecycle := ""
	switch market := p.sub("InstanceMarketOptions").get("MarketType"); market {
	case "":
	case "spot":
		lifecycle = "spot"
	default:
		return nil, errorf("InvalidParameterValue", "Invalid value '%s' for MarketType.", market)
	}

	profile, err := s.instanceProfileARN(p.sub("IamInstanceProfile"))
	if err != nil {
		return nil, err
	}

	now := time.Now().UTC()
	img.LastLaunchedTime = now
	reservation := s.newID("r")
	res := &reservationXML{ReservationID: reservation, OwnerID: s.opts.AccountID, RequesterID: ""}
	for i := 0; i < maxCount; i++ {
		in := &instance{seq: s.next(), Instance: Instance{
			ID: s.newID("i"), ImageID: img.ID, InstanceType: instanceType, KeyName: keyName,
			SecurityGroupIDs: groups, SubnetID: sn.id, VpcID: sn.vpcID, AvailabilityZone: sn.zone,
			LaunchTime: now, Tags: cloneTags(tags["instance"]), LaunchTemplateID: ltID, LaunchTemplateVersion: ltVersion,
			Architecture: img.Architecture, RootDeviceName: img.RootDeviceName, UserData: userData,
			MetadataOptions: meta, ReservationID: reservation, EnaSupport: img.EnaSupport, Lifecycle: lifecycle,
			IAMInstanceProfileARN: profile,
		}}
		in.Volumes = s.instanceVolumes(rs, img, mappings, tags["volume"])
		s.setState(in, "pending", now)
		rs.instances[in.ID] = in
		res.Instances.Items = append(res.Instances.Items, s.instanceXML(rs, in, i))
	}
	for _, g := range groups {
		res.Groups.Items = append(res.Groups.Items, xmlGroup{GroupID: g, GroupName: rs.groups[g].Name})
	}
	return &runInstancesResponse{reservationXML: *res}, nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

type blockDeviceRequest struct {
	device     string
	size       int32
	volumeType string
	encrypted  *bool
	kmsKeyID   string
	deleteOn   *bool
	noDevice   bool
}

func readBlockDeviceMappings(list []queryParams) ([]blockDeviceRequest, error) {
	var out []blockDeviceRequest
	for _, m := range list {
		r := blockDeviceRequest{device: m.get("DeviceName"), noDevice: m.has("NoDevice")}
		if r.device == "" {
			return nil, errorf("MissingParameter", "The request must contain the parameter BlockDeviceMapping.DeviceName")
		}
		ebs := m.sub("Ebs")
		if n, set, err := ebs.integer("VolumeSize"); err != nil {
			return nil, err
		} else if set {
			if n < 1 || n > 16384 {
				return nil, errorf("InvalidParameterValue", "Volume of %dGiB is out of the range 1-16384 GiB", n)
			}
			r.size = int32(n)
		}
		r.volumeType = ebs.get("VolumeType")
		if v, set := ebs.optBool("Encrypted"); set {
			r.encrypted = &v
		}
		if v, set := ebs.optBool("DeleteOnTermination"); set {
			r.deleteOn = &v
		}
		r.kmsKeyID = ebs.get("KmsKeyId")
		out = append(out, r)
	}
	return out, nil
}

// instanceVolumes creates the volumes of a new instance: the image's mappings, changed or
// extended by the request's BlockDeviceMappings.
func (s *Server) instanceVolumes(rs *regionState, img *image, req []blockDeviceRequest, tags map[string]string) []Volume {
	var vols []Volume
	for _, bd := range img.BlockDevices {
		vols = append(vols, Volume{DeviceName: bd.DeviceName, SnapshotID: bd.SnapshotID, SizeGiB: bd.SizeGiB,
			VolumeType: bd.VolumeType, Encrypted: bd.Encrypted, KmsKeyID: bd.KmsKeyID, DeleteOnTermination: bd.DeleteOnTermination})
	}
	for _, r := range req {
		i := slices.IndexFunc(vols, func(v Volume) bool { return v.DeviceName == r.device })
		if r.noDevice {
			if i >= 0 {
				vols = slices.Delete(vols, i, i+1)
			}
			continue
		}
		if i < 0 {
			vols = append(vols, Volume{DeviceName: r.device, SizeGiB: 8, VolumeType: "gp2", DeleteOnTermination: true})
			i = len(vols) - 1
		}
		v := &vols[i]
		if r.size > 0 {
			v.SizeGiB = max(r.size, v.SizeGiB)
		}
		if r.volumeType != "" {
			v.VolumeType = r.volumeType
		}
		if r.encrypted != nil && *r.encrypted {
			v.Encrypted = true
		}
		if r.kmsKeyID != "" {
			v.KmsKeyID = r.kmsKeyID
		}
		if r.deleteOn != nil {
			v.DeleteOnTermination = *r.deleteOn
		}
	}
	for i := range vols {
		vols[i].ID = s.newID("vol")
		vols[i].Tags = cloneTags(tags)
		if vols[i].Encrypted {
			vols[i].KmsKeyID = s.ebsKeyARN(rs, vols[i].KmsKeyID)
		}
	}
	return vols
}

func (s *Server) launchSubnet(rs *regionState, p queryParams) (*subnet, error) {
	if id := p.get("SubnetId"); id != "" {
		sn, found := rs.subnets[id]
		if !found {
			return nil, errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
		}
		return sn, nil
	}
	zone := p.get("Placement.AvailabilityZone")
	sn := rs.defaultSubnet(zone)
	if sn == nil {
		return nil, errorf("InvalidParameterValue", "Invalid availability zone: [%s]", zone)
	}
	return sn, nil
}

func (s *Server) launchGroups(rs *regionState, vpcID string, ids, names []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		g, found := rs.groups[id]
		if !found {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
		if g.VpcID != vpcID {
			return nil, errorf("InvalidParameter", "Security group %s and subnet belong to different networks.", id)
		}
		out = append(out, id)
	}
	for _, name := range names {
		g := rs.groupByName(vpcID, name)
		if g == nil {
			return nil, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'", name, vpcID)
		}
		out = append(out, g.ID)
	}
	if len(out) == 0 {
		out = []string{rs.defaultGroup(vpcID).ID}
	}
	return out, nil
}

type xmlInstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func stateXML(state string) xmlInstanceState {
	return xmlInstanceState{Code: stateCodes[state], Name: state}
}

type xmlGroup struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xmlInstanceBlockDevice struct {
	DeviceName string `xml:"deviceName"`
	Ebs        struct {
		VolumeID            string `xml:"volumeId"`
		Status              string `xml:"status"`
		AttachTime          string `xml:"attachTime"`
		DeleteOnTermination bool   `xml:"deleteOnTermination"`
	} `xml:"ebs"`
}

type xmlMetadataOptions struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int32  `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIpv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type xmlInstance struct {
	InstanceID         string                      `xml:"instanceId"`
	ImageID            string                      `xml:"imageId"`
	InstanceState      xmlInstanceState            `xml:"instanceState"`
	PrivateDNSName     string                      `xml:"privateDnsName"`
	DNSName            string                      `xml:"dnsName"`
	Reason             string                      `xml:"reason"`
	KeyName            string                      `xml:"keyName,omitempty"`
	AmiLaunchIndex     int                         `xml:"amiLaunchIndex"`
	InstanceType       string                      `xml:"instanceType"`
	LaunchTime         string                      `xml:"launchTime"`
	Placement          xmlPlacement                `xml:"placement"`
	Monitoring         xmlMonitoring               `xml:"monitoring"`
	SubnetID           string                      `xml:"subnetId"`
	VpcID              string                      `xml:"vpcId"`
	PrivateIPAddress   string                      `xml:"privateIpAddress,omitempty"`
	IPAddress          string                      `xml:"ipAddress,omitempty"`
	SourceDestCheck    bool                        `xml:"sourceDestCheck"`
	GroupSet           set[xmlGroup]               `xml:"groupSet"`
	StateReason        *xmlStateReasonCode         `xml:"stateReason"`
	Architecture       string                      `xml:"architecture"`
	RootDeviceType     string                      `xml:"rootDeviceType"`
	RootDeviceName     string                      `xml:"rootDeviceName"`
	BlockDeviceMapping set[xmlInstanceBlockDevice] `xml:"blockDeviceMapping"`
	VirtualizationType string                      `xml:"virtualizationType"`
	TagSet             *xmlTagSet                  `xml:"tagSet"`
	Hypervisor         string                      `xml:"hypervisor"`
	EbsOptimized       bool                        `xml:"ebsOptimized"`
	EnaSupport         bool                        `xml:"enaSupport"`
	InstanceLifecycle  string                      `xml:"instanceLifecycle,omitempty"`
	MetadataOptions    xmlMetadataOptions          `xml:"metadataOptions"`
	PlatformDetails    string                      `xml:"platformDetails"`
	UsageOperation     string                      `xml:"usageOperation"`
	BootMode           string                      `xml:"currentInstanceBootMode"`
	IamInstanceProfile *xmlIamInstanceProfile      `xml:"iamInstanceProfile"`
}

type xmlIamInstanceProfile struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

// instanceProfileARN is the ARN of RunInstances' IamInstanceProfile (by Arn or by Name, at most
// one of them, as EC2 takes), "" when none is given. The simulator has no IAM: any well-formed
// profile exists.
func (s *Server) instanceProfileARN(p queryParams) (string, error) {
	arn, name := p.get("Arn"), p.get("Name")
	switch {
	case arn != "" && name != "":
		return "", errorf("InvalidParameterCombination", "The parameter 'iamInstanceProfile.name' may not be used in combination with 'iamInstanceProfile.arn'")
	case name != "":
		return "arn:aws:iam::" + s.opts.AccountID + ":instance-profile/" + name, nil
	case arn != "" && !strings.HasPrefix(arn, "arn:aws:iam::"):
		return "", errorf("InvalidParameterValue", "Value (%s) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN", arn)
	}
	return arn, nil
}

// profileID is an instance profile's id (AIPA and 17 characters), the same for the same ARN.
func profileID(arn string) string {
	h := fnv.New64a()
	h.Write([]byte(arn))
	return strings.ToUpper(fmt.Sprintf("AIPA%017x", h.Sum64()))[:21]
}

type xmlMonitoring struct {
	State string `xml:"state"`
}

type xmlPlacement struct {
	AvailabilityZone   string `xml:"availabilityZone"`
	AvailabilityZoneID string `xml:"availabilityZoneId"`
	GroupName          string `xml:"groupName"`
	Tenancy            string `xml:"tenancy"`
}

func (s *Server) instanceXML(rs *regionState, in *instance, launchIndex int) xmlInstance {
	x := xmlInstance{
		InstanceID: in.ID, ImageID: in.ImageID, InstanceState: stateXML(in.State), KeyName: in.KeyName,
		AmiLaunchIndex: launchIndex, InstanceType: in.InstanceType, LaunchTime: formatTime(in.LaunchTime),
		Placement: xmlPlacement{AvailabilityZone: in.AvailabilityZone, AvailabilityZoneID: zoneID(in.AvailabilityZone), Tenancy: "default"},
		SubnetID:  in.SubnetID, VpcID: in.VpcID, PrivateIPAddress: in.PrivateIP, IPAddress: in.PublicIP,
		SourceDestCheck: true, Architecture: in.Architecture, RootDeviceType: "ebs", RootDeviceName: in.RootDeviceName,
		VirtualizationType: "hvm", TagSet: tagSet(in.Tags), Hypervisor: "xen", EnaSupport: in.EnaSupport,
		InstanceLifecycle: in.Lifecycle, PlatformDetails: "Linux/UNIX", UsageOperation: "RunInstances", BootMode: "uefi",
		MetadataOptions: xmlMetadataOptions{State: "applied", HTTPTokens: in.MetadataOptions.HTTPTokens,
			HTTPPutResponseHopLimit: in.MetadataOptions.HTTPPutResponseHopLimit, HTTPEndpoint: in.MetadataOptions.HTTPEndpoint,
			HTTPProtocolIpv6: "disabled", InstanceMetadataTags: in.MetadataOptions.InstanceMetadataTags},
	}
	x.Monitoring.State = "disabled"
	if in.IAMInstanceProfileARN != "" {
		x.IamInstanceProfile = &xmlIamInstanceProfile{Arn: in.IAMInstanceProfileARN, ID: profileID(in.IAMInstanceProfileARN)}
	}
	x.PrivateDNSName, x.DNSName = privateDNSName(rs.name, in.PrivateIP), publicDNSName(rs.name, in.PublicIP)
	if in.State == "pending" {
		x.MetadataOptions.State = "pending"
	}
	switch in.State {
	case "stopping", "stopped":
		x.Reason = "User initiated (" + formatTime(in.LaunchTime) + ")"
		x.StateReason = &xmlStateReasonCode{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	case "shutting-down", "terminated":
		x.Reason = "User initiated"
		x.StateReason = &xmlStateReasonCode{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	}
	if in.StateReason != "" {
		// A lab machine that failed to boot or to start again.
		x.StateReason = &xmlStateReasonCode{Code: in.StateReason, Message: in.StateReason + ": " + stateReasonMessages[in.StateReason]}
	}
	for _, g := range in.SecurityGroupIDs {
		name := ""
		if sg, ok := rs.groups[g]; ok {
			name = sg.Name
		}
		x.GroupSet.Items = append(x.GroupSet.Items, xmlGroup{GroupID: g, GroupName: name})
	}
	if in.State != "terminated" {
		for _, v := range in.Volumes {
			var bd xmlInstanceBlockDevice
			bd.DeviceName = v.DeviceName
			bd.Ebs.VolumeID, bd.Ebs.Status, bd.Ebs.AttachTime, bd.Ebs.DeleteOnTermination = v.ID, "attached", formatTime(in.LaunchTime), v.DeleteOnTermination
			x.BlockDeviceMapping.Items = append(x.BlockDeviceMapping.Items, bd)
		}
	}
	return x
}

type reservationXML struct {
	ReservationID string           `xml:"reservationId"`
	OwnerID       string           `xml:"ownerId"`
	RequesterID   string           `xml:"requesterId,omitempty"`
	Groups        set[xmlGroup]    `xml:"groupSet"`
	Instances     set[xmlInstance] `xml:"instancesSet"`
}

type runInstancesResponse struct {
	ec2Response
	reservationXML
}

var instanceFilters = map[string]fieldFunc[*instance]{
	"instance-id":         func(in *instance) []string { return one(in.ID) },
	"instance-state-name": func(in *instance) []string { return one(in.State) },
	"instance-state-code": func(in *instance) []string { return one(strconv.Itoa(stateCodes[in.State])) },
	"image-id":            func(in *instance) []string { return one(in.ImageID) },
	"instance-type":       func(in *instance) []string { return one(in.InstanceType) },
	"key-name":            func(in *instance) []string { return one(in.KeyName) },
	"vpc-id":              func(in *instance) []string { return one(in.VpcID) },
	"subnet-id":           func(in *instance) []string { return one(in.SubnetID) },
	"availability-zone":   func(in *instance) []string { return one(in.AvailabilityZone) },
	"architecture":        func(in *instance) []string { return one(in.Architecture) },
	"reservation-id":      func(in *instance) []string { return one(in.ReservationID) },
	"ip-address":          func(in *instance) []string { return one(in.PublicIP) },
	"private-ip-address":  func(in *instance) []string { return one(in.PrivateIP) },
	"instance.group-id":   func(in *instance) []string { return in.SecurityGroupIDs },
	"launch-time":         func(in *instance) []string { return one(formatTime(in.LaunchTime)) },
	"metadata-options.http-tokens": func(in *instance) []string {
		return one(in.MetadataOptions.HTTPTokens)
	},
	"block-device-mapping.volume-id": func(in *instance) []string {
		var out []string
		for _, v := range in.Volumes {
			out = append(out, v.ID)
		}
		return out
	},
}

func instanceTags(in *instance) map[string]string { return in.Tags }

// selectInstances applies InstanceId, Filter, MaxResults and NextToken.
func (s *Server) selectInstances(rs *regionState, p queryParams, l listing[*instance], keep func(*instance) bool) ([]*instance, string, error) {
	ids := p.strings("InstanceId")
	candidates := sortedBySeq(rs.instances)
	if len(ids) > 0 {
		var err error
		if candidates, err = s.lookupInstances(rs, ids); err != nil {
			return nil, "", err
		}
	}
	return l.page(p, len(ids) > 0, candidates, keep)
}

type describeInstancesResponse struct {
	ec2Response
	Reservations set[reservationXML] `xml:"reservationSet"`
	NextToken    string              `xml:"nextToken,omitempty"`
}

func describeInstances(s *Server, rs *regionState, req *request) (any, error) {
	list, next, err := s.selectInstances(rs, req.params, listing[*instance]{action: "DescribeInstances", fields: instanceFilters,
		tags: instanceTags, minResults: 5, maxResults: 1000}, nil)
	if err != nil {
		return nil, err
	}
	out := &describeInstancesResponse{NextToken: next}
	byReservation := map[string]int{}
	for _, in := range list {
		i, seen := byReservation[in.ReservationID]
		if !seen {
			out.Reservations.Items = append(out.Reservations.Items, reservationXML{ReservationID: in.ReservationID, OwnerID: s.opts.AccountID})
			i = len(out.Reservations.Items) - 1
			byReservation[in.ReservationID] = i
		}
		r := &out.Reservations.Items[i]
		r.Instances.Items = append(r.Instances.Items, s.instanceXML(rs, in, len(r.Instances.Items)))
	}
	return out, nil
}

type xmlStatusDetail struct {
	Name   string `xml:"name"`
	Status string `xml:"status"`
}

type xmlStatusSummary struct {
	Status  string               `xml:"status"`
	Details set[xmlStatusDetail] `xml:"details"`
}

type xmlInstanceStatus struct {
	InstanceID         string           `xml:"instanceId"`
	AvailabilityZone   string           `xml:"availabilityZone"`
	AvailabilityZoneID string           `xml:"availabilityZoneId"`
	InstanceState      xmlInstanceState `xml:"instanceState"`
	SystemStatus       xmlStatusSummary `xml:"systemStatus"`
	InstanceStatus     xmlStatusSummary `xml:"instanceStatus"`
}

type describeInstanceStatusResponse struct {
	ec2Response
	Statuses  set[xmlInstanceStatus] `xml:"instanceStatusSet"`
	NextToken string                 `xml:"nextToken,omitempty"`
}

// instanceStatusListing filters on the instance fields and the status checks' own.
var instanceStatusListing = listing[*instance]{action: "DescribeInstanceStatus", fields: withStatusFilters(),
	tags: instanceTags, minResults: 5, maxResults: 1000}

func withStatusFilters() map[string]fieldFunc[*instance] {
	out := maps.Clone(instanceFilters)
	maps.Copy(out, statusFilters)
	return out
}

var statusFilters = map[string]fieldFunc[*instance]{
	"instance-status.status": func(in *instance) []string { return one(checkStatus(in.State)) },
	"system-status.status":   func(in *instance) []string { return one(checkStatus(in.State)) },
	"instance-status.reachability": func(in *instance) []string {
		return one(checkDetail(in.State))
	},
	"system-status.reachability": func(in *instance) []string { return one(checkDetail(in.State)) },
}

// checkStatus is the status-check summary: ok once running, not-applicable otherwise.
func checkStatus(state string) string {
	if state == "running" {
		return "ok"
	}
	return "not-applicable"
}

func checkDetail(state string) string {
	if state == "running" {
		return "passed"
	}
	return "initializing"
}

// describeInstanceStatus reports running instances only, unless IncludeAllInstances.
func describeInstanceStatus(s *Server, rs *regionState, req *request) (any, error) {
	includeAll := req.params.boolean("IncludeAllInstances")
	list, next, err := s.selectInstances(rs, req.params, instanceStatusListing, func(in *instance) bool {
		return includeAll || in.State == "running"
	})
	if err != nil {
		return nil, err
	}
	out := &describeInstanceStatusResponse{NextToken: next}
	for _, in := range list {
		st := xmlInstanceStatus{InstanceID: in.ID, AvailabilityZone: in.AvailabilityZone, AvailabilityZoneID: zoneID(in.AvailabilityZone),
			InstanceState: stateXML(in.State)}
		summary := xmlStatusSummary{Status: checkStatus(in.State)}
		summary.Details.Items = []xmlStatusDetail{{Name: "reachability", Status: checkDetail(in.State)}}
		st.SystemStatus, st.InstanceStatus = summary, summary
		out.Statuses.Items = append(out.Statuses.Items, st)
	}
	return out, nil
}

type xmlStateChange struct {
	InstanceID    string           `xml:"instanceId"`
	CurrentState  xmlInstanceState `xml:"currentState"`
	PreviousState xmlInstanceState `xml:"previousState"`
}

type stateChangeResponse struct {
	ec2Response
	Instances set[xmlStateChange] `xml:"instancesSet"`
}

// namedInstances are the instances of the request's InstanceId list, which must not be empty.
func (s *Server) namedInstances(rs *regionState, req *request) ([]*instance, error) {
	ids := req.params.strings("InstanceId")
	if len(ids) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	return s.lookupInstances(rs, ids)
}

// changeStates applies a state change to every instance named, all or none.
func (s *Server) changeStates(rs *regionState, req *request, change func(in *instance) (string, error)) (any, error) {
	list, err := s.namedInstances(rs, req)
	if err != nil {
		return nil, err
	}
	next := make([]string, len(list))
	for i, in := range list {
		if next[i], err = change(in); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	out := &stateChangeResponse{}
	for i, in := range list {
		prev := in.State
		if next[i] != prev {
			s.setState(in, next[i], now)
		}
		out.Instances.Items = append(out.Instances.Items, xmlStateChange{InstanceID: in.ID, CurrentState: stateXML(in.State), PreviousState: stateXML(prev)})
	}
	return out, nil
}

func stopInstances(s *Server, rs *regionState, req *request) (any, error) {
	return s.changeStates(rs, req, func(in *instance) (string, error) {
		switch in.State {
		case "running", "pending":
			return "stopping", nil
		case "stopping", "stopped":
			return in.State, nil
		}
		return "", errorf("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be stopped.", in.ID)
	})
}

func startInstances(s *Server, rs *regionState, req *request) (any, error) {
	return s.changeStates(rs, req, func(in *instance) (string, error) {
		switch in.State {
		case "stopped":
			return "pending", nil
		case "running", "pending":
			return in.State, nil
		}
		return "", errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", in.ID)
	})
}

func terminateInstances(s *Server, rs *regionState, req *request) (any, error) {
	return s.changeStates(rs, req, func(in *instance) (string, error) {
		switch in.State {
		case "shutting-down", "terminated":
			return in.State, nil
		}
		return "shutting-down", nil
	})
}

type consoleOutputResponse struct {
	ec2Response
	InstanceID string `xml:"instanceId"`
	Timestamp  string `xml:"timestamp"`
	Output     string `xml:"output,omitempty"`
}

// getConsoleOutput returns the instance's console text, base64 encoded as AWS sends it: the
// text set with SetConsoleOutput, or a short boot log once the instance has booted.
func getConsoleOutput(s *Server, rs *regionState, req *request) (any, error) {
	in, err := s.lookupInstance(rs, req.params.get("InstanceId"))
	if err != nil {
		return nil, err
	}
	text := in.ConsoleOutput
	if text == "" && in.State != "pending" {
		text = bootLog(in)
	}
	out := &consoleOutputResponse{InstanceID: in.ID, Timestamp: formatTime(time.Now())}
	if text != "" {
		out.Output = base64.StdEncoding.EncodeToString([]byte(text))
	}
	return out, nil
}

func bootLog(in *instance) string {
	t := in.LaunchTime.UTC()
	return fmt.Sprintf(`[    0.000000] Linux version 6.1.0-18-cloud-amd64 (debian-kernel@lists.debian.org)
[    0.000000] Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-cloud-amd64 root=PARTUUID=0c5d4c3a-01 ro console=tty0 console=ttyS0,115200
[    1.204113] EXT4-fs (nvme0n1p1): mounted filesystem with ordered data mode.
Cloud-init v. 22.4.2 running 'init' at %s. Up 4.12 seconds.
ci-info: ++++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++++
ci-info: |  ens5  | True | %s | 255.255.240.0 | global |
Cloud-init v. 22.4.2 running 'modules:final' at %s. Up 9.87 seconds.
Cloud-init v. 22.4.2 finished at %s. Datasource DataSourceEc2Local.  Up 10.02 seconds
`, t.Format(time.RFC1123Z), in.PrivateIP, t.Add(6*time.Second).Format(time.RFC1123Z), t.Add(6*time.Second).Format(time.RFC1123Z))
}
