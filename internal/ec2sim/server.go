// Package ec2sim is a stateful, in-process simulator of the parts of Amazon EC2, Auto Scaling,
// Systems Manager Parameter Store, STS and KMS that the plugin's components call.
//
// It is one HTTP server for all five services. The real aws-sdk-go-v2 clients reach it through
// AWS_ENDPOINT_URL (or BaseEndpoint); the service and the region are read from the SigV4
// credential scope of each request, so one server answers every region. Responses follow the
// wire protocols the SDK expects (EC2 Query, AWS Query, JSON 1.1), including AWS's error shapes,
// so callers see smithy.APIError values with AWS's error codes.
//
// State changes that take time in AWS (instances booting, images becoming available) are computed
// lazily from timestamps when state is read: no timers or goroutines run in the background.
package ec2sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a Server.
type Options struct {
	// AccountID is the account every request acts as. Default "123456789012".
	AccountID string
	// InstanceAddress is reported as the public AND private IP of every launched instance: the
	// address where a test's SSH target listens. Default "127.0.0.1".
	InstanceAddress string
	// Machines, when set, boots a real machine for every instance of an image it has a disk for
	// (see MachineHost); the simulator does not close it.
	Machines MachineHost
	// IMDSListen is where the instance metadata service of the machines listens (Start serves it
	// when Machines is set). Default "127.0.0.1:0".
	IMDSListen string
	// Delays of the simulated state transitions. Zero values make transitions immediate.
	Delays Delays
	// Logf, when set, receives one line per request.
	Logf func(format string, args ...any)
	// Withheld maps a region to the actions it does not offer, as in a partition or region AWS
	// has not brought an action to yet: they answer InvalidAction there, as for an unknown action.
	Withheld map[string][]string
}

// Delays are how long simulated transitions take.
type Delays struct {
	InstancePending      time.Duration // pending -> running
	InstanceStopping     time.Duration // stopping -> stopped
	InstanceShuttingDown time.Duration // shutting-down -> terminated
	ImagePending         time.Duration // CreateImage: pending -> available
	CopyPending          time.Duration // CopyImage: pending -> available
	SnapshotPending      time.Duration // snapshots of CreateImage/CopyImage: pending -> completed
	// A deregistered image is listed (state deregistered) for DeregisteredListed, then its id
	// gives empty results for DeregisteredKnown more (and as long as an instance launched from it
	// is not terminated), then InvalidAMIID.NotFound. While its id is known, other calls naming it
	// fail with InvalidAMIID.Unavailable.
	DeregisteredListed time.Duration
	DeregisteredKnown  time.Duration
}

// DefaultAccountID is the account the simulator acts as unless Options.AccountID says otherwise.
const DefaultAccountID = "123456789012"

// Server is the simulator. It implements http.Handler; Start serves it on a TCP address.
type Server struct {
	opts Options

	mu      sync.Mutex
	delays  Delays
	regions map[string]*regionState
	rng     *rand.Rand // ids; guarded by mu
	nextSeq int64      // creation order of every resource; pagination sorts by it
	tokens  map[string]identity

	faultMu  sync.Mutex
	calls    map[string]int
	retries  map[string]int            // the part of calls that were SDK retry attempts
	byCaller map[string]map[string]int // caller -> "service:Action" -> calls (callers.go)
	failNth  map[string][]pendingFailure
	hooks    map[string][]callHook
	throttle throttleRule
	latency  time.Duration

	logMu sync.Mutex // guards opts.Logf, which handlers call with mu held

	httpSrv  *http.Server
	listener net.Listener

	lab labState // the machines behind instances and their metadata service

	answers answerLog // successful answers, for the SDK's redeliveries (redelivery.go)
}

type identity struct {
	arn    string
	userID string
}

// New returns a Server with every known region seeded lazily on first use: a default VPC with
// one default subnet per availability zone, the default security group, public Canonical,
// Debian and Amazon Linux images, and the public /aws/service/... SSM parameters naming them.
func New(opts Options) *Server {
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.InstanceAddress == "" {
		opts.InstanceAddress = "127.0.0.1"
	}
	s := &Server{
		opts:    opts,
		delays:  opts.Delays,
		regions: map[string]*regionState{},
		rng:     rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x9e3779b97f4a7c15)),
		tokens:  map[string]identity{},
		calls:   map[string]int{},
		retries: map[string]int{},
		failNth: map[string][]pendingFailure{},
	}
	s.lab.init(opts.Machines)
	return s
}

// Start serves the simulator on addr (for example "127.0.0.1:0") until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	if err := s.startIMDS(); err != nil {
		ln.Close()
		return err
	}
	s.listener = ln
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.httpSrv.Serve(ln) }()
	return nil
}

// URL is the base URL clients use as their endpoint, e.g. "http://127.0.0.1:43121".
func (s *Server) URL() string {
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Close stops serving and waits for in-flight requests and for the machine operations under
// way (which it cancels). The machines themselves stay with their MachineHost.
func (s *Server) Close() error {
	if s.httpSrv == nil {
		s.stopMachines(context.Background())
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.httpSrv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.httpSrv.Close()
	}
	s.stopMachines(ctx)
	return err
}

// Shutdown stops serving gracefully, bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.httpSrv == nil {
		s.stopMachines(ctx)
		return nil
	}
	err := s.httpSrv.Shutdown(ctx)
	s.stopMachines(ctx)
	return err
}

// StartTest starts a Server on 127.0.0.1:0 and closes it when the test ends.
func StartTest(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	s := New(opts)
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting AWS simulator: %v", err)
	}
	t.Cleanup(func() {
		s.writeCallerLog(t)
		// Requests logged after the test ends would panic in t.Logf.
		s.logMu.Lock()
		s.opts.Logf = nil
		s.logMu.Unlock()
		if err := s.Close(); err != nil {
			t.Errorf("closing AWS simulator: %v", err)
		}
	})
	return s
}

// AccountID is the account the simulator acts as.
func (s *Server) AccountID() string { return s.opts.AccountID }

// SetDelays changes the transition delays for transitions that start from now on.
func (s *Server) SetDelays(d Delays) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays = d
}

// request is one decoded API call.
type request struct {
	ctx       context.Context
	service   string // ec2, autoscaling, ssm, sts, kms
	region    string
	action    string
	params    queryParams // Query protocols
	body      []byte      // JSON protocol
	accessKey string
	requestID string
	bodyLen   int
	// retry is set when the SDK says this is its second or later attempt at the same call
	// (header amz-sdk-request: attempt=N).
	retry bool
	// caller is the SDK application id of the client (callers.go).
	caller string
}

// clientWriteBuffer is the Go HTTP client's write buffer: bodies at least this large are
// sent before the client has finished reading them.
const clientWriteBuffer = 4096

// ServeHTTP decodes the service, region and action, applies faults and answers in the
// service's wire format.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	req, err := s.decode(hr)
	if req == nil {
		// Not an AWS call at all: a health check or a browser.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "golden AWS simulator: EC2, Auto Scaling, SSM, STS and KMS")
		return
	}
	previous, finish := s.answers.claim(hr.Header.Get("Amz-Sdk-Invocation-Id"))
	if previous != nil {
		s.logf("%s %s %s (sent again after its answer: answered again)", req.region, req.service, req.action)
		s.answers.countRedelivery(req.action)
		previous.replay(w)
		return
	}
	rec := &recorder{ResponseWriter: w}
	defer func() { finish(rec) }()
	w = rec
	s.logf("%s %s %s", req.region, req.service, req.action)
	req.caller = callerOf(hr)
	s.recordCaller(req)
	var hooks []func()
	if err == nil {
		hooks, err = s.applyFaults(req)
	}
	var out any
	if err == nil {
		out, err = s.dispatch(req)
	}
	for _, fn := range hooks {
		fn()
	}
	if req.bodyLen >= clientWriteBuffer {
		// The Go HTTP client checks a large request body for EOF after the server may already
		// have read it all; the SDK closes the body as soon as response headers arrive, and if
		// they win that race the client drops the connection mid-response and retries
		// (aws-sdk-go-v2 issue 2737). Real AWS is never this fast: answering a moment later
		// makes that rare without slowing small calls (and a redelivery is answered from memory,
		// redelivery.go).
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{Code: internalErrorCode(req.service), Message: err.Error(), Status: http.StatusInternalServerError}
		}
		s.logf("%s %s %s -> %s: %s", req.region, req.service, req.action, ae.Code, ae.Message)
		writeError(w, req, ae)
		return
	}
	writeResult(w, req, out)
}

func (s *Server) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.opts.Logf != nil {
		s.opts.Logf("awssim: "+format, args...)
	}
}

// dispatch runs the action's handler under the state lock.
func (s *Server) dispatch(req *request) (any, error) {
	var table map[string]handler
	switch req.service {
	case "ec2":
		table = ec2Handlers
	case "autoscaling":
		table = autoScalingHandlers
	case "ssm":
		table = ssmHandlers
	case "sts":
		table = stsHandlers
	case "kms":
		table = kmsHandlers
	}
	h, ok := table[req.action]
	if !ok || slices.Contains(s.opts.Withheld[req.region], req.action) {
		return nil, unsupportedAction(req)
	}
	if req.service == "ec2" && req.params.boolean("DryRun") {
		// No IAM here: every call would be allowed.
		return nil, &apiError{Code: "DryRunOperation", Message: "Request would have succeeded, but DryRun flag is set.", Status: http.StatusPreconditionFailed}
	}
	s.mu.Lock()
	out, err := s.dispatchLocked(req, h)
	// A call may change what the lab machines must be told (a security group's rules) or leave
	// a disk layer unused; the host hears of it without the lock held.
	machineUpdates := s.machineUpdatesLocked()
	s.mu.Unlock()
	machineUpdates()
	if finish, ok := out.(outsideLock); ok && err == nil {
		return finish()
	}
	return out, err
}

// outsideLock is what a handler returns when the rest of its answer needs a MachineHost call,
// which must not run under the state lock.
type outsideLock func() (any, error)

func (s *Server) dispatchLocked(req *request, h handler) (any, error) {
	rs := s.regionLocked(req.region)
	rs.advance(time.Now())
	// A retried call carrying the same client token gets the first answer again instead of
	// launching or copying twice, as EC2's idempotency promises.
	var tokenKey string
	if token := req.params.get("ClientToken"); req.service == "ec2" && token != "" {
		tokenKey = req.action + "/" + token
		if prev, seen := rs.idempotent[tokenKey]; seen {
			return shallowCopy(prev), nil
		}
	}
	out, err := h(s, rs, req)
	if err == nil && tokenKey != "" {
		rs.idempotent[tokenKey] = out
	}
	return shallowCopy(out), err
}

// shallowCopy copies a response struct so that setting its request id does not touch a
// response kept for idempotent replays.
func shallowCopy(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return v
	}
	c := reflect.New(rv.Elem().Type())
	c.Elem().Set(rv.Elem())
	return c.Interface()
}

// handler answers one action; it runs with s.mu held and returns the response value the
// service's writer serialises.
type handler func(s *Server, rs *regionState, req *request) (any, error)

func unsupportedAction(req *request) error {
	switch req.service {
	case "ec2":
		return errorf("InvalidAction", "The action %s is not valid for this web service.", req.action)
	case "ssm", "kms":
		return &apiError{Code: "UnknownOperationException", Message: "Unknown operation " + req.action, Status: 400}
	default:
		return errorf("InvalidAction", "Could not find operation %s for version %s", req.action, req.params.get("Version"))
	}
}

// decode reads the service and region from the SigV4 scope and the action from the body.
// It returns a nil request for calls that carry no AWS signature and no action.
func (s *Server) decode(hr *http.Request) (*request, error) {
	body, err := readBody(hr)
	req := &request{ctx: hr.Context(), requestID: s.newRequestID(), bodyLen: len(body),
		retry: isRetryAttempt(hr.Header.Get("Amz-Sdk-Request"))}
	if scope, ok := credentialScope(hr.Header.Get("Authorization")); ok {
		req.accessKey, req.region, req.service = scope.accessKey, scope.region, scope.service
	}
	target := hr.Header.Get("X-Amz-Target")
	if target != "" {
		if req.service == "" {
			req.service = serviceForTarget(target)
		}
		req.action = target[strings.LastIndex(target, ".")+1:]
		req.body = body
	} else {
		req.params = parseQuery(hr.URL.RawQuery, body)
		req.action = req.params.get("Action")
		if req.service == "" && req.action != "" {
			req.service = serviceForVersion(req.params.get("Version"))
		}
	}
	if req.service == "" && req.action == "" {
		return nil, nil
	}
	if err != nil {
		return req, errorf("InvalidRequest", "reading request body: %v", err)
	}
	if req.region == "" {
		return req, authError(req, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	switch req.service {
	case "ec2", "autoscaling", "ssm", "sts", "kms":
	default:
		return req, errorf("InvalidAction", "service %q is not simulated", req.service)
	}
	if !knownRegion(req.region) {
		return req, authError(req, "", fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", req.region))
	}
	if req.action == "" {
		return req, errorf("MissingAction", "The request must contain the parameter Action")
	}
	return req, nil
}

// authError is AWS's answer to a request signed for a region or credential it does not know.
func authError(req *request, code, message string) *apiError {
	if code == "" {
		switch req.service {
		case "ec2":
			code = "AuthFailure"
		case "ssm", "kms":
			code = "InvalidSignatureException"
		default:
			code = "SignatureDoesNotMatch"
		}
	}
	status := http.StatusForbidden
	switch req.service {
	case "ec2":
		status = http.StatusUnauthorized
	case "ssm", "kms":
		status = http.StatusBadRequest
	}
	return &apiError{Code: code, Message: message, Status: status}
}

func serviceForVersion(version string) string {
	switch version {
	case "2016-11-15":
		return "ec2"
	case "2011-01-01":
		return "autoscaling"
	case "2011-06-15":
		return "sts"
	}
	return ""
}

// serviceForTarget names the JSON service of an X-Amz-Target ("TrentService.DescribeKey") for
// requests that carry no signature to read it from.
func serviceForTarget(target string) string {
	if strings.HasPrefix(target, "TrentService.") {
		return "kms"
	}
	return "ssm"
}

type scope struct{ accessKey, region, service string }

// credentialScope parses "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request, ...".
// The signature itself is not verified: the simulator trusts its callers.
func credentialScope(auth string) (scope, bool) {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return scope{}, false
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return scope{}, false
	}
	return scope{accessKey: parts[0], region: parts[2], service: parts[3]}, true
}

func (s *Server) newRequestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newUUIDLocked()
}
