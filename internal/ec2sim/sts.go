package ec2sim

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// STS over the AWS Query protocol: who the caller is, and role assumption handing out
// temporary credentials that later calls are recognised by.

var stsHandlers = map[string]handler{
	"GetCallerIdentity": getCallerIdentity,
	"AssumeRole":        assumeRole,
	"GetSessionToken":   getSessionToken,
}

// callerARN is the identity of an access key: the simulator's user unless the key came from
// AssumeRole. Callers hold s.mu.
func (s *Server) callerARN(accessKey string) string {
	if id, ok := s.tokens[accessKey]; ok {
		return id.arn
	}
	return fmt.Sprintf("arn:aws:iam::%s:user/simulator", s.opts.AccountID)
}

type getCallerIdentityResult struct {
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
}

func getCallerIdentity(s *Server, _ *regionState, req *request) (any, error) {
	out := &getCallerIdentityResult{Account: s.opts.AccountID, Arn: s.callerARN(req.accessKey), UserID: "AIDASIMULATOR000000001"}
	if id, ok := s.tokens[req.accessKey]; ok {
		out.UserID = id.userID
	}
	return out, nil
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumeRoleResult struct {
	Credentials     stsCredentials
	AssumedRoleUser struct {
		Arn           string `xml:"Arn"`
		AssumedRoleID string `xml:"AssumedRoleId"`
	}
	PackedPolicySize int `xml:"PackedPolicySize"`
}

var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

func (s *Server) issueCredentials(duration time.Duration, arn, userID string) stsCredentials {
	key := strings.ToUpper(strings.ReplaceAll(s.newID("ASIA"), "-", ""))[:20]
	s.tokens[key] = identity{arn: arn, userID: userID}
	return stsCredentials{
		AccessKeyID: key, SecretAccessKey: s.newID("secret") + s.newID("x"),
		SessionToken: "FwoGZXIvYXdzE" + s.newID("token") + s.newID("t"),
		Expiration:   time.Now().UTC().Add(duration).Format(time.RFC3339),
	}
}

func assumeRole(s *Server, _ *regionState, req *request) (any, error) {
	p := req.params
	roleARN, session := p.get("RoleArn"), p.get("RoleSessionName")
	m := roleARNPattern.FindStringSubmatch(roleARN)
	if m == nil {
		return nil, errorf("ValidationError", "%s is invalid", roleARN)
	}
	if !sessionNamePattern.MatchString(session) {
		return nil, errorf("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint", session)
	}
	duration := time.Hour
	if n, set, err := p.integer("DurationSeconds"); err != nil {
		return nil, err
	} else if set {
		if n < 900 || n > 43200 {
			return nil, errorf("ValidationError", "1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", n)
		}
		duration = time.Duration(n) * time.Second
	}
	roleID := "AROA" + strings.ToUpper(stableID("r", roleARN)[2:19])
	arn := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", m[1], m[2], session)
	out := &assumeRoleResult{Credentials: s.issueCredentials(duration, arn, roleID+":"+session)}
	out.AssumedRoleUser.Arn = arn
	out.AssumedRoleUser.AssumedRoleID = roleID + ":" + session
	return out, nil
}

type getSessionTokenResult struct {
	Credentials stsCredentials
}

func getSessionToken(s *Server, _ *regionState, req *request) (any, error) {
	return &getSessionTokenResult{Credentials: s.issueCredentials(12*time.Hour, s.callerARN(req.accessKey), "AIDASIMULATOR000000001")}, nil
}
