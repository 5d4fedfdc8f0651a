package ec2sim

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// taggable is a resource's tags and the type name DescribeTags reports.
type taggable struct {
	id, resourceType string
	tags             *map[string]string
	order            int64
}

// taggableResource finds any taggable resource by id, with the NotFound error of its type.
func (s *Server) taggableResource(rs *regionState, id string) (taggable, error) {
	prefix := id
	if i := strings.IndexByte(id, '-'); i > 0 {
		prefix = id[:i]
	}
	switch prefix {
	case "ami":
		if img, found := rs.images[id]; found && img.OwnerID == s.opts.AccountID {
			return taggable{id, "image", &img.Tags, img.seq.seq}, nil
		}
		return taggable{}, errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", id)
	case "snap":
		if sn, found := rs.snapshots[id]; found && sn.OwnerID == s.opts.AccountID {
			return taggable{id, "snapshot", &sn.Tags, sn.seq.seq}, nil
		}
		return taggable{}, errorf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
	case "i":
		if in, found := rs.instances[id]; found {
			return taggable{id, "instance", &in.Tags, in.seq.seq}, nil
		}
		return taggable{}, errorf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
	case "vol":
		for _, in := range rs.instances {
			for i := range in.Volumes {
				if in.Volumes[i].ID == id {
					return taggable{id, "volume", &in.Volumes[i].Tags, in.seq.seq}, nil
				}
			}
		}
		return taggable{}, errorf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	case "sg":
		if g, found := rs.groups[id]; found {
			return taggable{id, "security-group", &g.Tags, g.seq.seq}, nil
		}
		return taggable{}, errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	case "key":
		for _, kp := range rs.keyPairs {
			if kp.ID == id {
				return taggable{id, "key-pair", &kp.Tags, kp.seq.seq}, nil
			}
		}
		return taggable{}, errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", id)
	case "lt":
		if lt, found := rs.templates[id]; found {
			return taggable{id, "launch-template", &lt.Tags, lt.seq.seq}, nil
		}
		return taggable{}, errorf("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	case "vpc":
		if v, found := rs.vpcs[id]; found {
			return taggable{id, "vpc", &v.tags, v.seq.seq}, nil
		}
		return taggable{}, errorf("InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", id)
	case "subnet":
		if n, found := rs.subnets[id]; found {
			return taggable{id, "subnet", &n.tags, n.seq.seq}, nil
		}
		return taggable{}, errorf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
	}
	return taggable{}, errorf("InvalidID", "The ID '%s' is not valid", id)
}

func (s *Server) allTaggables(rs *regionState) []taggable {
	var out []taggable
	add := func(id string) {
		if t, err := s.taggableResource(rs, id); err == nil {
			out = append(out, t)
		}
	}
	for id := range rs.images {
		add(id)
	}
	for id := range rs.snapshots {
		add(id)
	}
	for id, in := range rs.instances {
		add(id)
		for _, v := range in.Volumes {
			add(v.ID)
		}
	}
	for id := range rs.groups {
		add(id)
	}
	for _, kp := range rs.keyPairs {
		add(kp.ID)
	}
	for id := range rs.templates {
		add(id)
	}
	for id := range rs.vpcs {
		add(id)
	}
	for id := range rs.subnets {
		add(id)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].order != out[j].order {
			return out[i].order < out[j].order
		}
		return out[i].id < out[j].id
	})
	return out
}

func readTags(p queryParams) []xmlTag {
	var out []xmlTag
	for _, t := range p.list("Tag") {
		out = append(out, xmlTag{Key: t.get("Key"), Value: t.get("Value")})
	}
	return out
}

// createTags tags every resource named, all or none.
func createTags(s *Server, rs *regionState, req *request) (any, error) {
	ids := req.params.strings("ResourceId")
	tags := readTags(req.params)
	if len(ids) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	if len(tags) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter tagSet")
	}
	for _, t := range tags {
		if err := checkTagKey(t.Key); err != nil {
			return nil, err
		}
	}
	var targets []taggable
	for _, id := range ids {
		t, err := s.taggableResource(rs, id)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	for _, t := range targets {
		if *t.tags == nil {
			*t.tags = map[string]string{}
		}
		for _, tag := range tags {
			(*t.tags)[tag.Key] = tag.Value
		}
		if len(*t.tags) > 50 {
			return nil, errorf("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
		}
	}
	return ok(), nil
}

// deleteTags removes tags by key; a tag given with a value is removed only when it matches.
func deleteTags(s *Server, rs *regionState, req *request) (any, error) {
	p := req.params
	ids := p.strings("ResourceId")
	if len(ids) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	var targets []taggable
	for _, id := range ids {
		t, err := s.taggableResource(rs, id)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
	}
	items := p.list("Tag")
	for _, t := range targets {
		if len(items) == 0 {
			*t.tags = map[string]string{}
			continue
		}
		for _, item := range items {
			key := item.get("Key")
			current, found := (*t.tags)[key]
			if !found {
				continue
			}
			if item.has("Value") && item.get("Value") != current {
				continue
			}
			delete(*t.tags, key)
		}
	}
	return ok(), nil
}

type xmlTagDescription struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

type describeTagsResponse struct {
	ec2Response
	Tags      set[xmlTagDescription] `xml:"tagSet"`
	NextToken string                 `xml:"nextToken,omitempty"`
}

var tagDescriptionFilters = map[string]fieldFunc[xmlTagDescription]{
	"resource-id":   func(t xmlTagDescription) []string { return one(t.ResourceID) },
	"resource-type": func(t xmlTagDescription) []string { return one(t.ResourceType) },
	"key":           func(t xmlTagDescription) []string { return one(t.Key) },
	"value":         func(t xmlTagDescription) []string { return one(t.Value) },
}

func describeTags(s *Server, rs *regionState, req *request) (any, error) {
	var all []xmlTagDescription
	for _, t := range s.allTaggables(rs) {
		keys := slices.Sorted(maps.Keys(*t.tags))
		for _, k := range keys {
			all = append(all, xmlTagDescription{ResourceID: t.id, ResourceType: t.resourceType, Key: k, Value: (*t.tags)[k]})
		}
	}
	l := listing[xmlTagDescription]{action: "DescribeTags", fields: tagDescriptionFilters, minResults: 5, maxResults: 1000}
	list, next, err := l.page(req.params, false, all, nil)
	if err != nil {
		return nil, err
	}
	out := &describeTagsResponse{NextToken: next}
	out.Tags.Items = list
	return out, nil
}
