package ec2sim_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The contract fixtures (testdata/contract) describe the responses of AWS's API reference in the
// services' own wire formats, with a type in place of each value:
//
//   - string, integer, double, boolean, timestamp: a value of that type (an XML timestamp is
//     ISO 8601, a JSON one epoch seconds);
//   - a|b|c: one of those values (a single value, such as an error code, is exact);
//   - a trailing ? makes a leaf optional; an XML element carrying optional="true", or a JSON key
//     ending in ?, makes a structure optional;
//   - an XML list holds one <item> (or <member>) and a JSON array one element: the shape of each
//     member, of which there may be any number.
//
// A response conforms when every element or key it has is in the fixture with a value of the
// fixture's type, and every element or key the fixture does not mark optional is there.

type shapeNode struct {
	name     string
	optional bool
	children []*shapeNode
	text     string
}

func (n *shapeNode) child(name string) *shapeNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func parseXMLShape(data []byte) (*shapeNode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*shapeNode
	var root *shapeNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &shapeNode{name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Local == "optional" && a.Value == "true" {
					n.optional = true
				}
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no XML element")
	}
	return root, nil
}

func isListMember(name string) bool { return name == "item" || name == "member" }

// compareXML checks a response element against its fixture element, appending what differs.
func compareXML(want, got *shapeNode, path string, problems *[]string) {
	if len(want.children) == 0 {
		if len(got.children) > 0 {
			*problems = append(*problems, fmt.Sprintf("%s: a structure where the reference has a %s", path, strings.TrimSpace(want.text)))
			return
		}
		if msg := checkLeaf(strings.TrimSpace(want.text), strings.TrimSpace(got.text), false); msg != "" {
			*problems = append(*problems, path+": "+msg)
		}
		return
	}
	if len(got.children) == 0 && strings.TrimSpace(got.text) != "" {
		*problems = append(*problems, fmt.Sprintf("%s: text %q where the reference has a structure", path, got.text))
		return
	}
	seen := map[string]bool{}
	for _, gc := range got.children {
		wc := want.child(gc.name)
		if wc == nil {
			*problems = append(*problems, fmt.Sprintf("%s/%s: not in the reference", path, gc.name))
			continue
		}
		if seen[gc.name] && !isListMember(gc.name) {
			*problems = append(*problems, fmt.Sprintf("%s/%s: repeated", path, gc.name))
		}
		seen[gc.name] = true
		compareXML(wc, gc, path+"/"+gc.name, problems)
	}
	for _, wc := range want.children {
		if !seen[wc.name] && !wc.optional && !isListMember(wc.name) && !strings.HasSuffix(strings.TrimSpace(wc.text), "?") {
			*problems = append(*problems, fmt.Sprintf("%s/%s: missing", path, wc.name))
		}
	}
}

// checkLeaf says what is wrong with a value given its fixture spec ("" when nothing).
func checkLeaf(spec, value string, jsonTimestamp bool) string {
	spec = strings.TrimSuffix(spec, "?")
	switch spec {
	case "string":
		return ""
	case "integer":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return fmt.Sprintf("%q is not an integer", value)
		}
	case "double":
		if _, err := strconv.ParseFloat(value, 64); err != nil {
			return fmt.Sprintf("%q is not a number", value)
		}
	case "boolean":
		if value != "true" && value != "false" {
			return fmt.Sprintf("%q is not a boolean", value)
		}
	case "timestamp":
		if jsonTimestamp {
			if _, err := strconv.ParseFloat(value, 64); err != nil {
				return fmt.Sprintf("%q is not epoch seconds", value)
			}
			return ""
		}
		if _, err := time.Parse(time.RFC3339, value); err != nil {
			return fmt.Sprintf("%q is not an ISO 8601 time", value)
		}
	default:
		if !slices.Contains(strings.Split(spec, "|"), value) {
			return fmt.Sprintf("%q is not one of %s", value, spec)
		}
	}
	return ""
}

// compareJSON checks a decoded JSON response against its decoded fixture.
func compareJSON(want, got any, path string, problems *[]string) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*problems = append(*problems, fmt.Sprintf("%s: %T where the reference has an object", path, got))
			return
		}
		keys := map[string]string{} // key -> fixture key (with its ?)
		for k := range w {
			keys[strings.TrimSuffix(k, "?")] = k
		}
		for _, k := range sortedMapKeys(g) {
			wk, ok := keys[k]
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%s.%s: not in the reference", path, k))
				continue
			}
			compareJSON(w[wk], g[k], path+"."+k, problems)
		}
		for k, wk := range keys {
			spec, _ := w[wk].(string)
			if _, ok := g[k]; !ok && !strings.HasSuffix(wk, "?") && !strings.HasSuffix(spec, "?") {
				*problems = append(*problems, fmt.Sprintf("%s.%s: missing", path, k))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*problems = append(*problems, fmt.Sprintf("%s: %T where the reference has an array", path, got))
			return
		}
		for i, item := range g {
			compareJSON(w[0], item, fmt.Sprintf("%s[%d]", path, i), problems)
		}
	case string:
		spec := strings.TrimSuffix(w, "?")
		var value string
		switch g := got.(type) {
		case string:
			if spec == "integer" || spec == "double" || spec == "boolean" || spec == "timestamp" {
				*problems = append(*problems, fmt.Sprintf("%s: string %q where the reference has a %s", path, g, spec))
				return
			}
			value = g
		case float64:
			if spec != "integer" && spec != "double" && spec != "timestamp" {
				*problems = append(*problems, fmt.Sprintf("%s: number where the reference has %s", path, spec))
				return
			}
			if spec == "integer" && g != math.Trunc(g) {
				*problems = append(*problems, fmt.Sprintf("%s: %v is not an integer", path, g))
			}
			return
		case bool:
			if spec != "boolean" {
				*problems = append(*problems, fmt.Sprintf("%s: boolean where the reference has %s", path, spec))
			}
			return
		default:
			*problems = append(*problems, fmt.Sprintf("%s: %T where the reference has %s", path, got, spec))
			return
		}
		if msg := checkLeaf(spec, value, true); msg != "" {
			*problems = append(*problems, path+": "+msg)
		}
	}
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// conforms compares a raw response body with a fixture in the same format.
func conforms(fixture, body []byte, jsonFormat bool) ([]string, error) {
	var problems []string
	if jsonFormat {
		var want, got any
		if err := json.Unmarshal(fixture, &want); err != nil {
			return nil, fmt.Errorf("fixture: %w", err)
		}
		if err := json.Unmarshal(body, &got); err != nil {
			return nil, fmt.Errorf("response: %w", err)
		}
		compareJSON(want, got, "$", &problems)
		return problems, nil
	}
	want, err := parseXMLShape(fixture)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	got, err := parseXMLShape(body)
	if err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	if want.name != got.name {
		return []string{fmt.Sprintf("root element %s, the reference has %s", got.name, want.name)}, nil
	}
	compareXML(want, got, want.name, &problems)
	return problems, nil
}

// exchange is one response a client received, as it came over the wire.
type exchange struct {
	action string
	status int
	body   []byte
}

// recordingClient is the SDK's HTTP client that keeps every response body.
type recordingClient struct {
	mu   sync.Mutex
	seen []exchange
}

func (r *recordingClient) Do(req *http.Request) (*http.Response, error) {
	action := req.Header.Get("X-Amz-Target")
	if i := strings.LastIndex(action, "."); i >= 0 {
		action = action[i+1:]
	}
	if action == "" && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		for _, kv := range strings.Split(string(body), "&") {
			if v, ok := strings.CutPrefix(kv, "Action="); ok {
				action = v
			}
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.seen = append(r.seen, exchange{action: action, status: resp.StatusCode, body: body})
	r.mu.Unlock()
	return resp, nil
}

// lastAny returns the last response recorded.
func (r *recordingClient) lastAny() (exchange, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		return exchange{}, false
	}
	return r.seen[len(r.seen)-1], true
}
