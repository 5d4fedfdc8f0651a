package ec2sim

// Inspection for tests: every method returns copies, in creation order.

// copies lists one kind of resource of a region as copies.
func copies[W interface{ order() int64 }, T any](s *Server, region string, pick func(*regionState) map[string]W, copyOf func(W) T) []T {
	var out []T
	s.withRegion(region, func(rs *regionState) {
		for _, w := range sortedBySeq(pick(rs)) {
			out = append(out, copyOf(w))
		}
	})
	return out
}

// Image returns the image with id in region.
func (s *Server) Image(region, id string) (Image, bool) {
	var out Image
	var found bool
	s.withRegion(region, func(rs *regionState) {
		if img, ok := rs.images[id]; ok {
			out, found = img.Image.clone(), true
		}
	})
	return out, found
}

// Images returns every image of region, public seeded ones included.
func (s *Server) Images(region string) []Image {
	return copies(s, region, func(rs *regionState) map[string]*image { return rs.images }, func(w *image) Image { return w.Image.clone() })
}

// Snapshot returns the snapshot with id in region.
func (s *Server) Snapshot(region, id string) (Snapshot, bool) {
	var out Snapshot
	var found bool
	s.withRegion(region, func(rs *regionState) {
		if sn, ok := rs.snapshots[id]; ok {
			out, found = sn.Snapshot.clone(), true
		}
	})
	return out, found
}

// Snapshots returns every snapshot of region.
func (s *Server) Snapshots(region string) []Snapshot {
	return copies(s, region, func(rs *regionState) map[string]*snapshot { return rs.snapshots }, func(w *snapshot) Snapshot { return w.Snapshot.clone() })
}

// Instances returns every instance of region, terminated ones included.
func (s *Server) Instances(region string) []Instance {
	return copies(s, region, func(rs *regionState) map[string]*instance { return rs.instances }, func(w *instance) Instance { return w.Instance.clone() })
}

// KeyPairs returns every key pair of region.
func (s *Server) KeyPairs(region string) []KeyPair {
	return copies(s, region, func(rs *regionState) map[string]*keyPair { return rs.keyPairs }, func(w *keyPair) KeyPair { return w.KeyPair.clone() })
}

// SecurityGroups returns every security group of region, the default group included.
func (s *Server) SecurityGroups(region string) []SecurityGroup {
	return copies(s, region, func(rs *regionState) map[string]*securityGroup { return rs.groups },
		func(w *securityGroup) SecurityGroup { return w.SecurityGroup.clone() })
}

// LaunchTemplates returns every launch template of region with its versions.
func (s *Server) LaunchTemplates(region string) []LaunchTemplate {
	return copies(s, region, func(rs *regionState) map[string]*launchTemplate { return rs.templates },
		func(w *launchTemplate) LaunchTemplate { return w.LaunchTemplate.clone() })
}

// Parameter returns the current value of an SSM parameter.
func (s *Server) Parameter(region, name string) (value string, ok bool) {
	s.withRegion(region, func(rs *regionState) {
		if p, found := rs.params[name]; found {
			value, ok = p.current().value, true
		}
	})
	return value, ok
}
