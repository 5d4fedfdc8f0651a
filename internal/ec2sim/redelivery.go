package ec2sim

import (
	"bytes"
	"maps"
	"net/http"
	"sync"
)

// Redelivered calls. The AWS SDK for Go v2 names every operation it invokes with an
// amz-sdk-invocation-id header, the same on each attempt of that operation. An attempt whose
// answer the server wrote successfully, but that the client still sent again (the Go HTTP client
// drops a connection whose request body it had not finished checking when the response headers
// arrive, aws-sdk-go-v2 issue 2737; a loaded machine makes that race likely), is a redelivery:
// the server answers it with the very response it gave, without running the action again, and
// counts it neither as a call nor as a retry. An attempt after an error answer (a throttle, an
// injected failure) is a retry, as before, and runs the action.

// maxRemembered bounds how many successful answers are kept for redeliveries, and
// maxRememberedBody how large one may be.
const (
	maxRemembered     = 128
	maxRememberedBody = 1 << 20
)

type answered struct {
	done   chan struct{} // closed once the first attempt has been answered
	ok     bool
	status int
	header http.Header
	body   []byte
}

type answerLog struct {
	mu           sync.Mutex
	byID         map[string]*answered
	order        []string
	redeliveries map[string]int
}

// Redeliveries is how many requests for action were the SDK sending again an attempt the server
// had already answered successfully (answered from memory, not counted in Calls).
func (s *Server) Redeliveries(action string) int {
	s.answers.mu.Lock()
	defer s.answers.mu.Unlock()
	return s.answers.redeliveries[action]
}

// claim returns the earlier answer of the invocation when the request is a redelivery of a
// successful one; otherwise it registers the invocation and returns nil with finish, which the
// caller calls with what it wrote.
func (l *answerLog) claim(invocation string) (previous *answered, finish func(rec *recorder)) {
	if invocation == "" {
		return nil, func(*recorder) {}
	}
	l.mu.Lock()
	if a, ok := l.byID[invocation]; ok {
		l.mu.Unlock()
		<-a.done
		if a.ok {
			return a, nil
		}
		l.mu.Lock()
	}
	a := &answered{done: make(chan struct{})}
	if l.byID == nil {
		l.byID = map[string]*answered{}
	}
	if _, known := l.byID[invocation]; !known {
		l.order = append(l.order, invocation)
	}
	l.byID[invocation] = a
	for len(l.order) > maxRemembered {
		delete(l.byID, l.order[0])
		l.order = l.order[1:]
	}
	l.mu.Unlock()
	return nil, func(rec *recorder) {
		if rec != nil && rec.status/100 == 2 && !rec.overflow {
			a.ok, a.status, a.header, a.body = true, rec.status, rec.Header().Clone(), rec.body.Bytes()
		}
		close(a.done)
	}
}

func (l *answerLog) countRedelivery(action string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.redeliveries == nil {
		l.redeliveries = map[string]int{}
	}
	l.redeliveries[action]++
}

func (l *answerLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.redeliveries = map[string]int{}
}

// replay writes an earlier answer again.
func (a *answered) replay(w http.ResponseWriter) {
	maps.Copy(w.Header(), a.header)
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// recorder is a ResponseWriter that keeps a copy of what it writes.
type recorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if !r.overflow {
		if r.body.Len()+len(b) > maxRememberedBody {
			r.overflow = true
			r.body = bytes.Buffer{}
		} else {
			r.body.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}
