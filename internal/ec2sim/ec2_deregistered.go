package ec2sim

import "time"

// What AWS documents for a deregistered image: DescribeImages still lists it, in state
// "deregistered", for a short interval; then a query by its id returns empty results; once no
// instance launched from it remains (and the interval has passed), the id is not found at all. While
// EC2 still knows the id, every other call naming it fails with InvalidAMIID.Unavailable, which is
// what a second DeregisterImage of the same image gets (two prunes racing each other).

// deregisteredImage is an image DeregisterImage removed, kept while EC2 still knows its id.
type deregisteredImage struct {
	img    *image
	at     time.Time
	listed time.Duration // how long it stays listed, from Delays.DeregisteredListed
	known  time.Duration // how long its id stays known, from Delays.DeregisteredKnown
}

// deregisteredPhase is where a deregistered image is in the sequence above.
type deregisteredPhase int

const (
	phaseGone     deregisteredPhase = iota // NotFound
	phaseListed                            // listed, state "deregistered"
	phaseEmptyRun                          // empty results by id, Unavailable for other calls
)

// deregisteredPhase says how EC2 answers for id now.
func (rs *regionState) deregisteredPhase(id string, now time.Time) (deregisteredPhase, *deregisteredImage) {
	d, found := rs.deregistered[id]
	if !found {
		return phaseGone, nil
	}
	age := now.Sub(d.at)
	switch {
	case age < d.listed:
		return phaseListed, d
	case age < d.listed+d.known || rs.launchedFrom(id):
		return phaseEmptyRun, d
	}
	delete(rs.deregistered, id)
	return phaseGone, nil
}

// launchedFrom reports whether an instance that is not terminated was launched from the image.
func (rs *regionState) launchedFrom(imageID string) bool {
	for _, in := range rs.instances {
		if in.ImageID == imageID && in.State != "terminated" {
			return true
		}
	}
	return false
}

// deregistered records an image DeregisterImage removed.
func (s *Server) deregistered(rs *regionState, img *image, now time.Time) {
	gone := *img
	gone.State = "deregistered"
	rs.deregistered[img.ID] = &deregisteredImage{img: &gone, at: now, listed: s.delays.DeregisteredListed, known: s.delays.DeregisteredKnown}
}

// unavailableIfDeregistered is the error for a call naming an image EC2 still knows as
// deregistered, or nil.
func (rs *regionState) unavailableIfDeregistered(id string, now time.Time) error {
	if phase, _ := rs.deregisteredPhase(id, now); phase != phaseGone {
		return errorf("InvalidAMIID.Unavailable", "The image id '[%s]' is no longer available", id)
	}
	return nil
}

func (d *deregisteredImage) order() int64 { return d.img.order() }
