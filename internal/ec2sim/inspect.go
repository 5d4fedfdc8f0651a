package ec2sim

// Inspection for tests: every method returns copies, sorted by creation.

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
	var out []Image
	s.withRegion(region, func(rs *regionState) {
		for _, img := range sortedBySeq(rs.images) {
			out = append(out, img.Image.clone())
		}
	})
	return out
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
	var out []Snapshot
	s.withRegion(region, func(rs *regionState) {
		for _, sn := range sortedBySeq(rs.snapshots) {
			out = append(out, sn.Snapshot.clone())
		}
	})
	return out
}

// Instances returns every instance of region, terminated ones included.
func (s *Server) Instances(region string) []Instance {
	var out []Instance
	s.withRegion(region, func(rs *regionState) {
		for _, in := range sortedBySeq(rs.instances) {
			out = append(out, in.Instance.clone())
		}
	})
	return out
}

// KeyPairs returns every key pair of region.
func (s *Server) KeyPairs(region string) []KeyPair {
	var out []KeyPair
	s.withRegion(region, func(rs *regionState) {
		for _, kp := range sortedBySeq(rs.keyPairs) {
			out = append(out, kp.KeyPair.clone())
		}
	})
	return out
}

// SecurityGroups returns every security group of region, the default group included.
func (s *Server) SecurityGroups(region string) []SecurityGroup {
	var out []SecurityGroup
	s.withRegion(region, func(rs *regionState) {
		for _, g := range sortedBySeq(rs.groups) {
			out = append(out, g.SecurityGroup.clone())
		}
	})
	return out
}

// LaunchTemplates returns every launch template of region with its versions.
func (s *Server) LaunchTemplates(region string) []LaunchTemplate {
	var out []LaunchTemplate
	s.withRegion(region, func(rs *regionState) {
		for _, lt := range sortedBySeq(rs.templates) {
			out = append(out, lt.LaunchTemplate.clone())
		}
	})
	return out
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
