package ec2sim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Systems Manager Parameter Store over the JSON 1.1 protocol.

var ssmHandlers = map[string]handler{
	"GetParameter":        getParameter,
	"GetParameters":       getParameters,
	"GetParametersByPath": getParametersByPath,
	"PutParameter":        putParameter,
	"DeleteParameter":     deleteParameter,
	"DeleteParameters":    deleteParameters,
	"DescribeParameters":  describeParameters,
}

type ssmParameter struct {
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
	Name             string  `json:"Name"`
	Selector         string  `json:"Selector,omitempty"`
	Type             string  `json:"Type"`
	Value            string  `json:"Value"`
	Version          int64   `json:"Version"`
}

func decodeJSON(req *request, v any) error {
	if len(req.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(req.body, v); err != nil {
		return &apiError{Code: "SerializationException", Message: "Start of structure or map found where not expected.", Status: 400}
	}
	return nil
}

func ssmValidation(format string, args ...any) *apiError {
	return &apiError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Status: 400}
}

func parameterNotFound(name string) *apiError {
	return &apiError{Code: "ParameterNotFound", Message: "Parameter " + name + " not found.", Status: 400}
}

func (s *Server) parameterARN(region, name string) string {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	account := s.opts.AccountID
	if strings.HasPrefix(name, "/aws/") {
		account = ""
	}
	return fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", region, account, name)
}

// resolveParameter reads "name", "name:version" or "name:label" (labels are not kept, so a
// label never matches).
func (s *Server) resolveParameter(rs *regionState, ref string) (ssmParameter, bool, error) {
	name, selector := ref, ""
	if i := strings.LastIndex(ref, ":"); i > 0 {
		name, selector = ref[:i], ref[i:]
	}
	p, found := rs.params[name]
	if !found {
		return ssmParameter{}, false, nil
	}
	v := p.current()
	if selector != "" {
		n, err := strconv.ParseInt(selector[1:], 10, 64)
		if err != nil {
			return ssmParameter{}, false, &apiError{Code: "ParameterVersionLabelNotFound", Message: "Label " + selector[1:] + " not found.", Status: 400}
		}
		matched := false
		for _, h := range p.history {
			if h.version == n {
				v, matched = h, true
			}
		}
		if !matched {
			return ssmParameter{}, false, &apiError{Code: "ParameterVersionNotFound",
				Message: fmt.Sprintf("Systems Manager could not find version %d of %s. Verify the version and try again.", n, name), Status: 400}
		}
	}
	return ssmParameter{
		ARN: s.parameterARN(rs.name, p.name), DataType: p.dataType, Name: p.name, Selector: selector, Type: p.typ,
		Value: v.value, Version: v.version, LastModifiedDate: float64(v.modified.UnixMilli()) / 1000,
	}, true, nil
}

func getParameter(s *Server, rs *regionState, req *request) (any, error) {
	var in struct{ Name string }
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, ssmValidation("1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null")
	}
	p, found, err := s.resolveParameter(rs, in.Name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, parameterNotFound(in.Name)
	}
	return map[string]any{"Parameter": p}, nil
}

func getParameters(s *Server, rs *regionState, req *request) (any, error) {
	var in struct{ Names []string }
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, ssmValidation("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	params := []ssmParameter{}
	invalid := []string{}
	for _, name := range in.Names {
		p, found, err := s.resolveParameter(rs, name)
		if err != nil || !found {
			invalid = append(invalid, name)
			continue
		}
		params = append(params, p)
	}
	return map[string]any{"Parameters": params, "InvalidParameters": invalid}, nil
}

func getParametersByPath(s *Server, rs *regionState, req *request) (any, error) {
	var in struct {
		Path       string
		Recursive  bool
		MaxResults int
		NextToken  string
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.Path, "/") {
		return nil, ssmValidation("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".")
	}
	if in.MaxResults < 0 || in.MaxResults > 10 {
		return nil, ssmValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10", in.MaxResults)
	}
	if in.MaxResults == 0 {
		in.MaxResults = 10
	}
	prefix := strings.TrimSuffix(in.Path, "/") + "/"
	var names []*parameter
	for _, p := range sortedByName(rs.params) {
		if !strings.HasPrefix(p.name, prefix) {
			continue
		}
		if !in.Recursive && strings.Contains(p.name[len(prefix):], "/") {
			continue
		}
		names = append(names, p)
	}
	pg, err := paginate("GetParametersByPath", len(names), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, &apiError{Code: "InvalidNextToken", Message: "The specified token isn't valid.", Status: 400}
	}
	out := []ssmParameter{}
	for _, p := range names[pg.start:pg.end] {
		v, _, _ := s.resolveParameter(rs, p.name)
		out = append(out, v)
	}
	resp := map[string]any{"Parameters": out}
	if pg.next != "" {
		resp["NextToken"] = pg.next
	}
	return resp, nil
}

func sortedByName(m map[string]*parameter) []*parameter {
	out := sortedBySeq(m)
	slices.SortStableFunc(out, func(a, b *parameter) int { return strings.Compare(a.name, b.name) })
	return out
}

var (
	parameterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)
	reservedPrefix       = regexp.MustCompile(`(?i)^/?(aws|ssm)`)
)

// putParameter creates or updates a parameter. Values of data type aws:ec2:image are validated
// after the call answers, as in AWS: PutParameter succeeds, but a value that is not an available
// image of the region leaves the parameter unchanged (or uncreated).
func putParameter(s *Server, rs *regionState, req *request) (any, error) {
	var in struct {
		Name, Value, Type, DataType, Description, Tier string
		Overwrite                                      bool
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.Name == "" || in.Value == "" {
		return nil, ssmValidation("1 validation error detected: Value null at 'name' or 'value' failed to satisfy constraint: Member must not be null")
	}
	if len(in.Name) > 1011 || !parameterNamePattern.MatchString(in.Name) {
		return nil, ssmValidation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
	}
	if reservedPrefix.MatchString(in.Name) {
		return nil, ssmValidation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).")
	}
	if strings.Count(in.Name, "/") > 15 {
		return nil, &apiError{Code: "HierarchyLevelLimitExceededException", Message: "Parameter name hierarchy can't exceed 15 levels.", Status: 400}
	}
	switch in.DataType {
	case "":
		in.DataType = "text"
	case "text", "aws:ec2:image", "aws:ssm:integration":
	default:
		return nil, ssmValidation("The following data type is not supported: %s (Data type names are all lowercase.)", in.DataType)
	}
	if in.Type == "" {
		in.Type = "String"
	}
	if in.Type != "String" && in.Type != "StringList" && in.Type != "SecureString" {
		return nil, &apiError{Code: "UnsupportedParameterType", Message: "The parameter type " + in.Type + " isn't supported.", Status: 400}
	}
	existing, found := rs.params[in.Name]
	if found && !in.Overwrite {
		return nil, &apiError{Code: "ParameterAlreadyExists", Message: "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.", Status: 400}
	}
	if found && (existing.dataType == "aws:ec2:image") != (in.DataType == "aws:ec2:image") {
		return nil, ssmValidation("You cannot change the data type of a parameter from %s to %s.", existing.dataType, in.DataType)
	}
	if in.DataType == "aws:ec2:image" {
		if in.Type != "String" {
			return nil, ssmValidation("Parameters with data type aws:ec2:image must be of type String.")
		}
		img, ok := rs.images[in.Value]
		if !amiIDPattern.MatchString(in.Value) || !ok || img.State != "available" || !img.visibleTo(s.opts.AccountID) {
			version := int64(1)
			if found {
				version = existing.current().version + 1
			}
			s.logf("%s ssm PutParameter %s: asynchronous validation failed: %s is not an available image; parameter left unchanged", rs.name, in.Name, in.Value)
			return map[string]any{"Version": version, "Tier": "Standard"}, nil
		}
	}
	version := s.putParameterLocked(rs, in.Name, in.Value, in.DataType, in.Type, time.Now().UTC())
	p := rs.params[in.Name]
	p.typ = in.Type
	if in.Description != "" {
		p.description = in.Description
	}
	return map[string]any{"Version": version, "Tier": "Standard"}, nil
}

func deleteParameter(s *Server, rs *regionState, req *request) (any, error) {
	var in struct{ Name string }
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if _, found := rs.params[in.Name]; !found {
		return nil, parameterNotFound(in.Name)
	}
	delete(rs.params, in.Name)
	return struct{}{}, nil
}

func deleteParameters(s *Server, rs *regionState, req *request) (any, error) {
	var in struct{ Names []string }
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	deleted, invalid := []string{}, []string{}
	for _, name := range in.Names {
		if _, found := rs.params[name]; found {
			delete(rs.params, name)
			deleted = append(deleted, name)
		} else {
			invalid = append(invalid, name)
		}
	}
	return map[string]any{"DeletedParameters": deleted, "InvalidParameters": invalid}, nil
}

type ssmParameterMetadata struct {
	ARN              string  `json:"ARN"`
	DataType         string  `json:"DataType"`
	Description      string  `json:"Description,omitempty"`
	LastModifiedDate float64 `json:"LastModifiedDate"`
	LastModifiedUser string  `json:"LastModifiedUser"`
	Name             string  `json:"Name"`
	Tier             string  `json:"Tier"`
	Type             string  `json:"Type"`
	Version          int64   `json:"Version"`
}

// describeParameters lists the account's own parameters (not the public /aws/ ones, as in AWS),
// with ParameterFilters on Name (Equals or BeginsWith), Type, DataType, Tier and Path; the other
// keys AWS accepts (KeyId, Label, tag:KEY) match nothing, and any other key is refused.
func describeParameters(s *Server, rs *regionState, req *request) (any, error) {
	var in struct {
		ParameterFilters []struct {
			Key, Option string
			Values      []string
		}
		MaxResults int
		NextToken  string
	}
	if err := decodeJSON(req, &in); err != nil {
		return nil, err
	}
	if in.MaxResults < 0 || in.MaxResults > 50 {
		return nil, ssmValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", in.MaxResults)
	}
	if in.MaxResults == 0 {
		in.MaxResults = 50
	}
	for _, f := range in.ParameterFilters {
		if !describeParametersKeys[f.Key] && !strings.HasPrefix(f.Key, "tag:") {
			return nil, &apiError{Code: "InvalidFilterKey", Message: fmt.Sprintf("The specified key is not valid: %s", f.Key), Status: 400}
		}
	}
	var matched []*parameter
	for _, p := range sortedByName(rs.params) {
		if strings.HasPrefix(p.name, "/aws/") {
			continue
		}
		keep := true
		for _, f := range in.ParameterFilters {
			keep = keep && parameterFilterMatches(p, f.Key, f.Option, f.Values)
		}
		if keep {
			matched = append(matched, p)
		}
	}
	pg, err := paginate("DescribeParameters", len(matched), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, &apiError{Code: "InvalidNextToken", Message: "The specified token isn't valid.", Status: 400}
	}
	out := []ssmParameterMetadata{}
	for _, p := range matched[pg.start:pg.end] {
		v := p.current()
		out = append(out, ssmParameterMetadata{
			ARN: s.parameterARN(rs.name, p.name), DataType: p.dataType, Description: p.description,
			LastModifiedDate: float64(v.modified.UnixMilli()) / 1000, LastModifiedUser: s.callerARN(""),
			Name: p.name, Tier: p.tier, Type: p.typ, Version: v.version,
		})
	}
	resp := map[string]any{"Parameters": out}
	if pg.next != "" {
		resp["NextToken"] = pg.next
	}
	return resp, nil
}

// describeParametersKeys are the ParameterFilters keys DescribeParameters accepts besides tag:KEY.
var describeParametersKeys = map[string]bool{"Name": true, "Type": true, "KeyId": true, "Path": true, "Label": true, "Tier": true, "DataType": true}

func parameterFilterMatches(p *parameter, key, option string, values []string) bool {
	var have string
	switch key {
	case "Name":
		have = p.name
	case "Type":
		have = p.typ
	case "DataType":
		have = p.dataType
	case "Tier":
		have = p.tier
	case "Path":
		for _, v := range values {
			prefix := strings.TrimSuffix(v, "/") + "/"
			if strings.HasPrefix(p.name, prefix) && (option == "Recursive" || !strings.Contains(p.name[len(prefix):], "/")) {
				return true
			}
		}
		return false
	default:
		// KeyId, Label and tag:KEY: the simulated parameters have no keys, labels or tags.
		return false
	}
	for _, v := range values {
		switch option {
		case "BeginsWith":
			if strings.HasPrefix(have, v) {
				return true
			}
		case "Contains":
			if strings.Contains(have, v) {
				return true
			}
		default:
			if have == v {
				return true
			}
		}
	}
	return false
}
