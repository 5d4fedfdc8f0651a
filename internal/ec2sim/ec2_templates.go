package ec2sim

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Launch templates and their versions. Versions keep the image id exactly as given (an AMI id
// or "resolve:ssm:<parameter>"), so a caller checking which images are in use sees what AWS
// would show it.

var (
	templateIDPattern   = regexp.MustCompile(`^lt-([0-9a-f]{8}|[0-9a-f]{17})$`)
	templateNamePattern = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)
)

// lookupTemplate resolves LaunchTemplateId or LaunchTemplateName.
func (s *Server) lookupTemplate(rs *regionState, p queryParams) (*launchTemplate, error) {
	id, name := p.get("LaunchTemplateId"), p.get("LaunchTemplateName")
	switch {
	case id != "" && name != "":
		return nil, errorf("InvalidParameterCombination", "Specify either the launch template ID or the launch template name, but not both.")
	case id != "":
		if !templateIDPattern.MatchString(id) {
			return nil, errorf("InvalidLaunchTemplateId.Malformed", "The specified ID for the launch template (%s) is malformed.", id)
		}
		lt, found := rs.templates[id]
		if !found {
			return nil, errorf("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
		}
		return lt, nil
	case name != "":
		lt := rs.findTemplate("", name)
		if lt == nil {
			return nil, errorf("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
		}
		return lt, nil
	}
	return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateId or LaunchTemplateName")
}

// resolveVersion reads "$Latest", "$Default" or a number.
func resolveVersion(lt *launchTemplate, v string) (LaunchTemplateVersion, error) {
	n := lt.DefaultVersion
	switch v {
	case "", "$Default":
	case "$Latest":
		n = lt.LatestVersion
	default:
		parsed, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return LaunchTemplateVersion{}, errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for template %s", v, lt.ID)
		}
		n = parsed
	}
	for _, ver := range lt.Versions {
		if ver.Number == n {
			return ver, nil
		}
	}
	return LaunchTemplateVersion{}, errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %d for template %s", n, lt.ID)
}

// templateVersion resolves a LaunchTemplate specification of RunInstances.
func (s *Server) templateVersion(rs *regionState, p queryParams) (*launchTemplate, LaunchTemplateVersion, error) {
	lt, err := s.lookupTemplate(rs, p)
	if err != nil {
		return nil, LaunchTemplateVersion{}, err
	}
	v, err := resolveVersion(lt, p.get("Version"))
	return lt, v, err
}

// resolveImageAlias turns "resolve:ssm:<parameter>" into the image id the parameter holds.
func (s *Server) resolveImageAlias(rs *regionState, alias string) (string, error) {
	name := strings.TrimPrefix(alias, "resolve:ssm:")
	p, found, err := s.resolveParameter(rs, name)
	if err != nil || !found {
		return "", errorf("InvalidParameterValue", "Unable to resolve the SSM parameter %s to an AMI id: parameter not found", name)
	}
	return p.Value, nil
}

func readTemplateData(p queryParams) LaunchTemplateData {
	d := LaunchTemplateData{
		ImageID: p.get("ImageId"), InstanceType: p.get("InstanceType"), KeyName: p.get("KeyName"),
		SecurityGroupIDs: p.strings("SecurityGroupId"), UserData: p.get("UserData"),
	}
	if p.has("MetadataOptions") {
		mo := p.sub("MetadataOptions")
		m := &MetadataOptions{HTTPTokens: mo.get("HttpTokens"), HTTPEndpoint: mo.get("HttpEndpoint"), InstanceMetadataTags: mo.get("InstanceMetadataTags")}
		if n, set, _ := mo.integer("HttpPutResponseHopLimit"); set {
			m.HTTPPutResponseHopLimit = int32(n)
		}
		d.MetadataOptions = m
	}
	return d
}

// overlay applies the fields a new version sets on top of its source version.
func overlay(base, top LaunchTemplateData) LaunchTemplateData {
	base.ImageID = firstNonEmpty(top.ImageID, base.ImageID)
	base.InstanceType = firstNonEmpty(top.InstanceType, base.InstanceType)
	base.KeyName = firstNonEmpty(top.KeyName, base.KeyName)
	base.UserData = firstNonEmpty(top.UserData, base.UserData)
	if len(top.SecurityGroupIDs) > 0 {
		base.SecurityGroupIDs = top.SecurityGroupIDs
	}
	if top.MetadataOptions != nil {
		base.MetadataOptions = top.MetadataOptions
	}
	return base
}

type xmlValidationError struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type xmlWarning struct {
	Errors set[xmlValidationError] `xml:"errorSet"`
}

// dataWarnings are the problems AWS reports as warnings instead of refusing the template.
func (s *Server) dataWarnings(rs *regionState, d LaunchTemplateData) *xmlWarning {
	w := &xmlWarning{}
	if d.ImageID != "" && !strings.HasPrefix(d.ImageID, "resolve:ssm:") {
		if img, found := rs.images[d.ImageID]; !found || !img.visibleTo(s.opts.AccountID) {
			w.Errors.Items = append(w.Errors.Items, xmlValidationError{Code: "InvalidAMIID.NotFound", Message: fmt.Sprintf("The image id '[%s]' does not exist", d.ImageID)})
		}
	}
	if d.KeyName != "" {
		if _, found := rs.keyPairs[d.KeyName]; !found {
			w.Errors.Items = append(w.Errors.Items, xmlValidationError{Code: "InvalidKeyPair.NotFound", Message: fmt.Sprintf("The key pair '%s' does not exist", d.KeyName)})
		}
	}
	if len(w.Errors.Items) == 0 {
		return nil
	}
	return w
}

type xmlLaunchTemplate struct {
	LaunchTemplateID     string     `xml:"launchTemplateId"`
	LaunchTemplateName   string     `xml:"launchTemplateName"`
	CreateTime           string     `xml:"createTime"`
	CreatedBy            string     `xml:"createdBy"`
	DefaultVersionNumber int64      `xml:"defaultVersionNumber"`
	LatestVersionNumber  int64      `xml:"latestVersionNumber"`
	TagSet               *xmlTagSet `xml:"tagSet"`
}

func (s *Server) templateXML(lt *launchTemplate) xmlLaunchTemplate {
	return xmlLaunchTemplate{LaunchTemplateID: lt.ID, LaunchTemplateName: lt.Name, CreateTime: formatTime(lt.CreateTime),
		CreatedBy: s.callerARN(""), DefaultVersionNumber: lt.DefaultVersion, LatestVersionNumber: lt.LatestVersion, TagSet: tagSet(lt.Tags)}
}

type createLaunchTemplateResponse struct {
	ec2Response
	LaunchTemplate xmlLaunchTemplate `xml:"launchTemplate"`
	Warning        *xmlWarning       `xml:"warning"`
}

func createLaunchTemplate(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	name := p.get("LaunchTemplateName")
	if name == "" {
		return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateName")
	}
	if !templateNamePattern.MatchString(name) {
		return nil, errorf("InvalidLaunchTemplateName.MalformedException", "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
	}
	if rs.findTemplate("", name) != nil {
		return nil, errorf("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
	}
	if !p.has("LaunchTemplateData") {
		return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	tags, err := tagSpecifications(p, "TagSpecification", "launch-template")
	if err != nil {
		return nil, err
	}
	data := readTemplateData(p.sub("LaunchTemplateData"))
	now := time.Now().UTC()
	lt := &launchTemplate{seq: s.next(), LaunchTemplate: LaunchTemplate{
		ID: s.newID("lt"), Name: name, DefaultVersion: 1, LatestVersion: 1, CreateTime: now, Tags: cloneTags(tags["launch-template"]),
		Versions: []LaunchTemplateVersion{{Number: 1, Description: p.get("VersionDescription"), CreateTime: now, Data: data}},
	}}
	rs.templates[lt.ID] = lt
	return &createLaunchTemplateResponse{LaunchTemplate: s.templateXML(lt), Warning: s.dataWarnings(rs, data)}, nil
}

type xmlTemplateData struct {
	ImageID         string              `xml:"imageId,omitempty"`
	InstanceType    string              `xml:"instanceType,omitempty"`
	KeyName         string              `xml:"keyName,omitempty"`
	SecurityGroups  *set[string]        `xml:"securityGroupIdSet"`
	UserData        string              `xml:"userData,omitempty"`
	MetadataOptions *xmlMetadataOptions `xml:"metadataOptions"`
}

type xmlTemplateVersion struct {
	LaunchTemplateID   string          `xml:"launchTemplateId"`
	LaunchTemplateName string          `xml:"launchTemplateName"`
	VersionNumber      int64           `xml:"versionNumber"`
	VersionDescription string          `xml:"versionDescription,omitempty"`
	CreateTime         string          `xml:"createTime"`
	CreatedBy          string          `xml:"createdBy"`
	DefaultVersion     bool            `xml:"defaultVersion"`
	LaunchTemplateData xmlTemplateData `xml:"launchTemplateData"`
}

func (s *Server) versionXML(lt *launchTemplate, v LaunchTemplateVersion, imageID string) xmlTemplateVersion {
	d := xmlTemplateData{ImageID: imageID, InstanceType: v.Data.InstanceType, KeyName: v.Data.KeyName, UserData: v.Data.UserData}
	if len(v.Data.SecurityGroupIDs) > 0 {
		d.SecurityGroups = &set[string]{Items: v.Data.SecurityGroupIDs}
	}
	if m := v.Data.MetadataOptions; m != nil {
		d.MetadataOptions = &xmlMetadataOptions{State: "applied", HTTPTokens: m.HTTPTokens, HTTPPutResponseHopLimit: m.HTTPPutResponseHopLimit,
			HTTPEndpoint: m.HTTPEndpoint, HTTPProtocolIpv6: "disabled", InstanceMetadataTags: m.InstanceMetadataTags}
	}
	return xmlTemplateVersion{LaunchTemplateID: lt.ID, LaunchTemplateName: lt.Name, VersionNumber: v.Number,
		VersionDescription: v.Description, CreateTime: formatTime(v.CreateTime), CreatedBy: s.callerARN(""),
		DefaultVersion: v.Number == lt.DefaultVersion, LaunchTemplateData: d}
}

type createLaunchTemplateVersionResponse struct {
	ec2Response
	Version xmlTemplateVersion `xml:"launchTemplateVersion"`
	Warning *xmlWarning        `xml:"warning"`
}

// createLaunchTemplateVersion adds version N+1, starting from SourceVersion when given.
func createLaunchTemplateVersion(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	lt, err := s.lookupTemplate(rs, p)
	if err != nil {
		return nil, err
	}
	if !p.has("LaunchTemplateData") {
		return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	data := readTemplateData(p.sub("LaunchTemplateData"))
	if src := p.get("SourceVersion"); src != "" {
		base, err := resolveVersion(lt, src)
		if err != nil {
			return nil, err
		}
		data = overlay(base.Data, data)
	}
	v := LaunchTemplateVersion{Number: lt.LatestVersion + 1, Description: p.get("VersionDescription"), CreateTime: time.Now().UTC(), Data: data}
	lt.Versions = append(lt.Versions, v)
	lt.LatestVersion = v.Number
	imageID := v.Data.ImageID
	if p.boolean("ResolveAlias") && strings.HasPrefix(imageID, "resolve:ssm:") {
		if imageID, err = s.resolveImageAlias(rs, imageID); err != nil {
			return nil, err
		}
	}
	return &createLaunchTemplateVersionResponse{Version: s.versionXML(lt, v, imageID), Warning: s.dataWarnings(rs, data)}, nil
}

type modifyLaunchTemplateResponse struct {
	ec2Response
	LaunchTemplate xmlLaunchTemplate `xml:"launchTemplate"`
}

// modifyLaunchTemplate changes the default version.
func modifyLaunchTemplate(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	lt, err := s.lookupTemplate(rs, p)
	if err != nil {
		return nil, err
	}
	if d := p.get("SetDefaultVersion"); d != "" {
		v, err := resolveVersion(lt, d)
		if err != nil {
			return nil, err
		}
		lt.DefaultVersion = v.Number
	}
	return &modifyLaunchTemplateResponse{LaunchTemplate: s.templateXML(lt)}, nil
}

var templateFilters = map[string]fieldFunc[*launchTemplate]{
	"launch-template-name": func(lt *launchTemplate) []string { return one(lt.Name) },
	"create-time":          func(lt *launchTemplate) []string { return one(formatTime(lt.CreateTime)) },
}

func templateTags(lt *launchTemplate) map[string]string { return lt.Tags }

type describeLaunchTemplatesResponse struct {
	ec2Response
	Templates set[xmlLaunchTemplate] `xml:"launchTemplates"`
	NextToken string                 `xml:"nextToken,omitempty"`
}

func describeLaunchTemplates(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	ids, names := p.strings("LaunchTemplateId"), p.strings("LaunchTemplateName")
	for _, id := range ids {
		if _, found := rs.templates[id]; !found {
			return nil, errorf("InvalidLaunchTemplateId.NotFound", "At least one of the launch templates specified in the request does not exist.")
		}
	}
	for _, n := range names {
		if rs.findTemplate("", n) == nil {
			return nil, errorf("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
		}
	}
	l := listing[*launchTemplate]{action: "DescribeLaunchTemplates", fields: templateFilters, tags: templateTags, minResults: 1, maxResults: 200}
	list, next, err := l.page(p, len(ids)+len(names) > 0, sortedBySeq(rs.templates), func(lt *launchTemplate) bool {
		return len(ids)+len(names) == 0 || slices.Contains(ids, lt.ID) || slices.Contains(names, lt.Name)
	})
	if err != nil {
		return nil, err
	}
	out := &describeLaunchTemplatesResponse{NextToken: next}
	for _, lt := range list {
		out.Templates.Items = append(out.Templates.Items, s.templateXML(lt))
	}
	return out, nil
}

type versionRef struct {
	lt *launchTemplate
	v  LaunchTemplateVersion
}

var versionFilters = map[string]fieldFunc[versionRef]{
	"image-id":           func(r versionRef) []string { return one(r.v.Data.ImageID) },
	"instance-type":      func(r versionRef) []string { return one(r.v.Data.InstanceType) },
	"is-default-version": func(r versionRef) []string { return one(boolString(r.v.Number == r.lt.DefaultVersion)) },
	"create-time":        func(r versionRef) []string { return one(formatTime(r.v.CreateTime)) },
	"http-tokens": func(r versionRef) []string {
		if r.v.Data.MetadataOptions == nil {
			return nil
		}
		return one(r.v.Data.MetadataOptions.HTTPTokens)
	},
}

type describeLaunchTemplateVersionsResponse struct {
	ec2Response
	Versions  set[xmlTemplateVersion] `xml:"launchTemplateVersionSet"`
	NextToken string                  `xml:"nextToken,omitempty"`
}

// describeLaunchTemplateVersions describes versions of one template (by number, $Latest,
// $Default or a Min/MaxVersion range; all when none is given, newest first), or the $Latest
// and/or $Default versions of every template when no template is named.
func describeLaunchTemplateVersions(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	versions := p.strings("LaunchTemplateVersion")
	var refs []versionRef
	if p.get("LaunchTemplateId") == "" && p.get("LaunchTemplateName") == "" {
		if len(versions) == 0 {
			return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateId or LaunchTemplateName, or specify $Latest or $Default versions")
		}
		for _, v := range versions {
			if v != "$Latest" && v != "$Default" {
				return nil, errorf("InvalidParameterValue", "Version numbers cannot be specified when describing the launch templates of the account; use $Latest or $Default.")
			}
		}
		for _, lt := range sortedBySeq(rs.templates) {
			var nums []int64
			for _, v := range versions {
				ver, err := resolveVersion(lt, v)
				if err == nil && !slices.Contains(nums, ver.Number) {
					nums = append(nums, ver.Number)
					refs = append(refs, versionRef{lt, ver})
				}
			}
		}
	} else {
		lt, err := s.lookupTemplate(rs, p)
		if err != nil {
			return nil, err
		}
		minV, _, err := p.integer("MinVersion")
		if err != nil {
			return nil, err
		}
		maxV, maxSet, err := p.integer("MaxVersion")
		if err != nil {
			return nil, err
		}
		var nums []int64
		for _, v := range versions {
			ver, err := resolveVersion(lt, v)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(nums, ver.Number) {
				nums = append(nums, ver.Number)
			}
		}
		for i := len(lt.Versions) - 1; i >= 0; i-- {
			ver := lt.Versions[i]
			if len(versions) > 0 && !slices.Contains(nums, ver.Number) {
				continue
			}
			if ver.Number <= int64(minV) && minV > 0 || maxSet && ver.Number > int64(maxV) {
				continue
			}
			refs = append(refs, versionRef{lt, ver})
		}
	}
	l := listing[versionRef]{action: "DescribeLaunchTemplateVersions", fields: versionFilters, minResults: 1, maxResults: 200}
	list, next, err := l.page(p, false, refs, nil)
	if err != nil {
		return nil, err
	}
	resolve := p.boolean("ResolveAlias")
	out := &describeLaunchTemplateVersionsResponse{NextToken: next}
	for _, r := range list {
		imageID := r.v.Data.ImageID
		if resolve && strings.HasPrefix(imageID, "resolve:ssm:") {
			if imageID, err = s.resolveImageAlias(rs, imageID); err != nil {
				return nil, err
			}
		}
		out.Versions.Items = append(out.Versions.Items, s.versionXML(r.lt, r.v, imageID))
	}
	return out, nil
}
