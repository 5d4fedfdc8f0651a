package ec2sim

import (
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// throttleSeed makes the sequence of throttled calls the same on every run.
const throttleSeed = 20160115

type throttleRule struct {
	percent int
	actions map[string]bool // empty: every action
	rng     *rand.Rand
}

type pendingFailure struct {
	remaining     int
	code, message string
}

// Calls is how many requests for action arrived (faulted ones and the SDK's retries included,
// redeliveries of an answered attempt not: see Redeliveries) since the last reset.
func (s *Server) Calls(action string) int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.calls[action]
}

// Retries is how many of action's calls were the SDK's retry attempts of an earlier call
// (throttled, failed, or lost on the way), so Calls - Retries is how many calls the client code made.
func (s *Server) Retries(action string) int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return s.retries[action]
}

// CallCounts is a copy of every action's call count.
func (s *Server) CallCounts() map[string]int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return maps.Clone(s.calls)
}

// ResetCalls sets every call counter back to zero.
func (s *Server) ResetCalls() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.calls = map[string]int{}
	s.retries = map[string]int{}
	s.answers.reset()
}

// Throttle makes percent of the calls to actions (every action when none is named) fail with the
// service's throttling error: RequestLimitExceeded (EC2, HTTP 503), Throttling (Auto Scaling and
// STS, HTTP 400) or ThrottlingException (SSM and KMS, HTTP 400). Which calls fail follows a fixed
// seed, so a test sees the same sequence on every run. Throttle(0) stops throttling.
func (s *Server) Throttle(percent int, actions ...string) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	rule := throttleRule{percent: percent, actions: map[string]bool{}, rng: rand.New(rand.NewPCG(throttleSeed, uint64(percent)))}
	for _, a := range actions {
		rule.actions[a] = true
	}
	s.throttle = rule
}

// FailNth makes the n-th next call of action (n=1: the very next one) fail with the given AWS
// error code and message. The HTTP status follows the code as AWS sends it (e.g. 503 for
// RequestLimitExceeded or Unavailable, 500 for InternalError, 400 otherwise).
func (s *Server) FailNth(action string, n int, code, message string) {
	if n < 1 {
		n = 1
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.failNth[action] = append(s.failNth[action], pendingFailure{remaining: n, code: code, message: message})
}

// OnCall runs fn on the n-th next call of action (n=1: the very next one) once the call has
// taken effect (or its fault was decided), before its answer is sent; the answer is sent when fn
// returns. Tests use it to act at an exact point of a client's run, e.g. to interrupt a build
// while its RunInstances call is in flight: EC2 has launched the instance, the build has not
// heard of it yet. fn runs without the state lock, so it may call the Server.
func (s *Server) OnCall(action string, n int, fn func()) {
	if n < 1 {
		n = 1
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.hooks == nil {
		s.hooks = map[string][]callHook{}
	}
	s.hooks[action] = append(s.hooks[action], callHook{at: s.calls[action] + n, fn: fn})
}

type callHook struct {
	at int // the value of calls[action] that fires it
	fn func()
}

// SetLatency delays every response by d.
func (s *Server) SetLatency(d time.Duration) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.latency = d
}

// applyFaults counts the call and decides whether it fails before reaching its handler. It
// returns the OnCall functions due on this call, which ServeHTTP runs before answering.
func (s *Server) applyFaults(req *request) (hooks []func(), _ error) {
	s.faultMu.Lock()
	s.calls[req.action]++
	if req.retry {
		s.retries[req.action]++
	}
	var fire []func()
	if hooks := s.hooks[req.action]; len(hooks) > 0 {
		kept := hooks[:0]
		for _, h := range hooks {
			if h.at == s.calls[req.action] {
				fire = append(fire, h.fn)
				continue
			}
			kept = append(kept, h)
		}
		s.hooks[req.action] = kept
	}
	latency := s.latency
	var failure *apiError
	queue := s.failNth[req.action]
	pending := queue[:0]
	for _, f := range queue {
		f.remaining--
		if f.remaining == 0 && failure == nil {
			failure = errorf(f.code, "%s", f.message)
			continue
		}
		if f.remaining <= 0 {
			// Two failures due on the same call: the second waits for the next one.
			f.remaining = 1
		}
		pending = append(pending, f)
	}
	if len(pending) == 0 {
		delete(s.failNth, req.action)
	} else {
		s.failNth[req.action] = pending
	}
	if failure == nil && s.throttle.percent > 0 && (len(s.throttle.actions) == 0 || s.throttle.actions[req.action]) {
		if s.throttle.rng.IntN(100) < s.throttle.percent {
			failure = throttlingError(req.service)
		}
	}
	s.faultMu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-req.ctx.Done():
			t.Stop()
		}
	}
	if failure != nil {
		return fire, failure
	}
	return fire, nil
}

func throttlingError(service string) *apiError {
	switch service {
	case "ec2":
		return &apiError{Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Status: http.StatusServiceUnavailable}
	case "ssm", "kms":
		return &apiError{Code: "ThrottlingException", Message: "Rate exceeded", Status: http.StatusBadRequest}
	default:
		return &apiError{Code: "Throttling", Message: "Rate exceeded", Status: http.StatusBadRequest}
	}
}

// isRetryAttempt reads the SDK's amz-sdk-request header ("attempt=2; max=3"): attempts after the
// first are retries.
func isRetryAttempt(header string) bool {
	attempt, _, _ := strings.Cut(header, ";")
	n, ok := strings.CutPrefix(strings.TrimSpace(attempt), "attempt=")
	return ok && n != "1" && n != ""
}
