package ec2sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DescribeImageReferences: which instances, launch templates and SSM parameters refer to
// images. Image Builder recipes are not simulated, so asking for them finds nothing.

// defaultVersionDepth and maxVersionDepth bound version-depth: how many launch template versions
// are checked, counting back from the latest (ResourceTypeOption in the EC2 API reference).
const (
	defaultVersionDepth = 10
	maxVersionDepth     = 10000
)

// maxReferenceImageIDs is how many ImageId.N one DescribeImageReferences call accepts.
const maxReferenceImageIDs = 10

type xmlImageReference struct {
	ImageID      string `xml:"imageId"`
	ResourceType string `xml:"resourceType"`
	Arn          string `xml:"arn"`
}

type describeImageReferencesResponse struct {
	ec2Response
	References set[xmlImageReference] `xml:"imageReferenceSet"`
	NextToken  string                 `xml:"nextToken,omitempty"`
}

// referenceQuery is which resource types to search, with their options.
type referenceQuery struct {
	instances      bool
	instanceStates []string // empty: every state
	templates      bool
	versionDepth   int
	parameters     bool
}

func readReferenceQuery(p queryParams) (referenceQuery, error) {
	q := referenceQuery{versionDepth: defaultVersionDepth}
	if p.boolean("IncludeAllResourceTypes") {
		q.instances, q.templates, q.parameters = true, true, true
	}
	types := p.list("ResourceType")
	if len(types) == 0 && !q.instances {
		return q, errorf("MissingParameter", "The request must contain the parameter ResourceType or IncludeAllResourceTypes")
	}
	for _, rt := range types {
		for _, opt := range rt.list("ResourceTypeOption") {
			values := opt.strings("OptionValue")
			switch opt.get("OptionName") {
			case "state-name":
				q.instanceStates = append(q.instanceStates, values...)
			case "version-depth":
				if len(values) != 1 {
					return q, errorf("InvalidParameterValue", "version-depth takes one value")
				}
				n, err := strconv.Atoi(values[0])
				if err != nil || n < 1 || n > maxVersionDepth {
					return q, errorf("InvalidParameterValue", "Value (%s) for version-depth is invalid. Valid values are 1-%d.", values[0], maxVersionDepth)
				}
				q.versionDepth = n
			default:
				return q, errorf("InvalidParameterValue", "The resource type option '%s' is not valid.", opt.get("OptionName"))
			}
		}
		switch rt.get("ResourceType") {
		case "ec2:Instance":
			q.instances = true
		case "ec2:LaunchTemplate":
			q.templates = true
		case "ssm:Parameter":
			q.parameters = true
		case "imagebuilder:ImageRecipe", "imagebuilder:ContainerRecipe":
		default:
			return q, errorf("InvalidParameterValue", "The resource type '%s' is not valid.", rt.get("ResourceType"))
		}
	}
	return q, nil
}

func describeImageReferences(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	ids := p.strings("ImageId")
	if len(ids) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter ImageId")
	}
	if len(ids) > maxReferenceImageIDs {
		return nil, errorf("InvalidParameterValue", "The request names %d image ids; at most %d are allowed.", len(ids), maxReferenceImageIDs)
	}
	for _, id := range ids {
		if _, err := s.lookupImage(rs, id); err != nil {
			return nil, err
		}
	}
	q, err := readReferenceQuery(p)
	if err != nil {
		return nil, err
	}
	var refs []xmlImageReference
	for _, id := range ids {
		refs = append(refs, s.imageReferences(rs, id, q)...)
	}
	l := listing[xmlImageReference]{action: "DescribeImageReferences", minResults: 1, maxResults: 1000}
	list, next, err := l.page(p, false, refs, nil)
	if err != nil {
		return nil, err
	}
	out := &describeImageReferencesResponse{NextToken: next}
	out.References.Items = list
	return out, nil
}

func (s *Server) imageReferences(rs *regionState, imageID string, q referenceQuery) []xmlImageReference {
	var out []xmlImageReference
	arn := func(kind, id string) string {
		return fmt.Sprintf("arn:aws:ec2:%s:%s:%s/%s", rs.name, s.opts.AccountID, kind, id)
	}
	if q.instances {
		for _, in := range sortedBySeq(rs.instances) {
			if in.ImageID == imageID && (len(q.instanceStates) == 0 || slices.Contains(q.instanceStates, in.State)) {
				out = append(out, xmlImageReference{ImageID: imageID, ResourceType: "ec2:Instance", Arn: arn("instance", in.ID)})
			}
		}
	}
	if q.templates {
		for _, lt := range sortedBySeq(rs.templates) {
			versions := lt.Versions[max(0, len(lt.Versions)-q.versionDepth):]
			if slices.ContainsFunc(versions, func(v LaunchTemplateVersion) bool { return s.templateImage(rs, v) == imageID }) {
				out = append(out, xmlImageReference{ImageID: imageID, ResourceType: "ec2:LaunchTemplate", Arn: arn("launch-template", lt.ID)})
			}
		}
	}
	if q.parameters {
		for _, prm := range sortedByName(rs.params) {
			if prm.dataType == "aws:ec2:image" && prm.current().value == imageID {
				out = append(out, xmlImageReference{ImageID: imageID, ResourceType: "ssm:Parameter", Arn: s.parameterARN(rs.name, prm.name)})
			}
		}
	}
	return out
}

// templateImage is the image a template version launches, through its SSM alias if it has one.
func (s *Server) templateImage(rs *regionState, v LaunchTemplateVersion) string {
	id := v.Data.ImageID
	if strings.HasPrefix(id, "resolve:ssm:") {
		if resolved, err := s.resolveImageAlias(rs, id); err == nil {
			return resolved
		}
	}
	return id
}
