package ec2sim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CallsLogEnv names a folder: when it is set, every server StartTest started writes, as its test
// ends, one JSON file there listing the calls each caller made (see CallerLog). The IAM test reads
// these files to compare what the components called with the policies docs/iam.md documents.
const CallsLogEnv = "GOLDEN_SIM_CALLS_DIR"

// CallerLog is what one test's simulator saw: per caller, the number of calls of each
// "service:Action" (the IAM action name, e.g. "ec2:RunInstances"), faulted and retried calls
// included, since each needs the permission as much as the first one did, and the permissions AWS
// checks on top of an action for what the request asks (impliedActions).
type CallerLog struct {
	Test    string                    `json:"test"`
	Callers map[string]map[string]int `json:"callers"`
}

// callerOf is who made a request: the application id the AWS SDK puts in its User-Agent header
// ("app/<id>", aws.Config.AppID; the plugin's components set "golden-<component>"), or "" when the
// client set none.
func callerOf(hr *http.Request) string {
	for _, field := range strings.Fields(hr.Header.Get("User-Agent")) {
		if id, ok := strings.CutPrefix(field, "app/"); ok {
			return id
		}
	}
	return ""
}

// recordCaller counts req under its caller and IAM action name.
func (s *Server) recordCaller(req *request) {
	if req.service == "" || req.action == "" {
		return
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if s.byCaller == nil {
		s.byCaller = map[string]map[string]int{}
	}
	m := s.byCaller[req.caller]
	if m == nil {
		m = map[string]int{}
		s.byCaller[req.caller] = m
	}
	m[req.service+":"+req.action]++
	for _, a := range impliedActions(req) {
		m[a]++
	}
}

// PermissionOnly are the implied permissions that are no call of the simulator's: iam:PassRole
// is checked on RunInstances, the simulator answers no IAM API.
var PermissionOnly = []string{"iam:PassRole"}

// impliedActions are the further permissions AWS authorizes a request against, beyond its own
// action:
//   - EC2 tags on create (a TagSpecification on RunInstances, CreateImage, CopyImage,
//     ImportKeyPair, CreateSecurityGroup...) need ec2:CreateTags ("Grant permission to tag
//     resources during creation", EC2 User Guide);
//   - a RunInstances with an IamInstanceProfile needs iam:PassRole on the profile's role ("to
//     launch an instance with a role, the user needs permission to pass the role to EC2", EC2
//     User Guide, IAM roles for Amazon EC2);
//   - an SSM PutParameter with Tags needs ssm:AddTagsToResource.
func impliedActions(req *request) []string {
	switch req.service {
	case "ec2":
		var out []string
		for key := range req.params.values {
			if strings.HasPrefix(key, "TagSpecification.") {
				out = append(out, "ec2:CreateTags")
				break
			}
		}
		if req.action == "RunInstances" && (req.params.get("IamInstanceProfile.Arn") != "" || req.params.get("IamInstanceProfile.Name") != "") {
			out = append(out, "iam:PassRole")
		}
		return out
	case "ssm":
		if req.action == "PutParameter" {
			var in struct{ Tags []json.RawMessage }
			if json.Unmarshal(req.body, &in) == nil && len(in.Tags) > 0 {
				return []string{"ssm:AddTagsToResource"}
			}
		}
	}
	return nil
}

// CallsByCaller is a copy of the call counts per caller (the SDK application id, "" for clients
// that set none) and IAM action name ("ec2:DescribeImages"). ResetCalls does not clear it.
func (s *Server) CallsByCaller() map[string]map[string]int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	out := make(map[string]map[string]int, len(s.byCaller))
	for caller, m := range s.byCaller {
		out[caller] = maps.Clone(m)
	}
	return out
}

// writeCallerLog writes the test's CallerLog into the CallsLogEnv folder, if one is named.
func (s *Server) writeCallerLog(t testing.TB) {
	dir := os.Getenv(CallsLogEnv)
	if dir == "" {
		return
	}
	callers := s.CallsByCaller()
	if len(callers) == 0 {
		return
	}
	data, err := json.Marshal(CallerLog{Test: t.Name(), Callers: callers})
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		var f *os.File
		f, err = os.CreateTemp(dir, "calls-*.json")
		if err == nil {
			_, err = f.Write(data)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		t.Errorf("writing the simulator's calls into %s: %v", dir, err)
	}
}

// ReadCallerLogs reads every CallerLog written into dir.
func ReadCallerLogs(dir string) ([]CallerLog, error) {
	files, err := filepath.Glob(filepath.Join(dir, "calls-*.json"))
	if err != nil {
		return nil, err
	}
	var logs []CallerLog
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var l CallerLog
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		logs = append(logs, l)
	}
	return logs, nil
}
