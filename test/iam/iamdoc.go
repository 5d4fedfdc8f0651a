// Package iam holds the test that docs/iam.md's policies are exactly what the components call: it
// reads the JSON policies out of the page, runs (or reads the records of) the end-to-end suites
// against the simulator, and compares, per component, the IAM actions called with those allowed.
package iam

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// NoPolicyMarker is the sentence a component's section of docs/iam.md carries instead of a policy
// when the component makes no AWS call at all.
const NoPolicyMarker = "This component makes no AWS calls."

// UnexercisedPrefix starts the paragraph of a section that lists, in backquotes, the actions of
// its policy that no end-to-end suite makes the component call yet (read from the code instead).
const UnexercisedPrefix = "Not exercised by the end-to-end suites yet:"

// NoPermissionNeeded are the actions AWS authorizes for any caller, so no policy lists them:
// "No permissions are required to perform this operation" (STS API reference, GetCallerIdentity).
var NoPermissionNeeded = []string{"sts:GetCallerIdentity"}

// Policy is an IAM identity policy as docs/iam.md writes it.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy. Action and Resource may each be a string or a list.
type Statement struct {
	Sid       string          `json:"Sid"`
	Effect    string          `json:"Effect"`
	Action    stringList      `json:"Action"`
	Resource  stringList      `json:"Resource"`
	Condition json.RawMessage `json:"Condition,omitempty"`
}

type stringList []string

func (l *stringList) UnmarshalJSON(data []byte) error {
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}

// Section is one component's part of docs/iam.md.
type Section struct {
	Component string // e.g. "golden-ebs"
	Line      int    // of its heading
	// Policy is the section's JSON policy; nil when the section says NoPolicyMarker.
	Policy *Policy
	// Unexercised are the policy's actions the section lists after UnexercisedPrefix.
	Unexercised []string
}

// Actions are the actions the section's policy allows, sorted, without duplicates.
func (s Section) Actions() []string {
	if s.Policy == nil {
		return nil
	}
	return s.Policy.Actions()
}

var (
	headingRe = regexp.MustCompile("^## `?(golden-[a-z]+)`?")
	quotedRe  = regexp.MustCompile("`([^`]+)`")
	actionRe  = regexp.MustCompile(`^(ec2|ssm|sts|autoscaling|kms|iam):[A-Z][A-Za-z0-9]+$`)
)

// ParseDoc reads the components' sections of docs/iam.md: each level-2 heading naming a
// golden-* component starts one, holding exactly one ```json policy block or the NoPolicyMarker
// sentence, and optionally an UnexercisedPrefix paragraph. Every policy is checked as least privilege must be: version 2012-10-17, only Allow
// statements, each with a Sid and a Resource, actions named exactly (no wildcards), no action in
// two statements, and none of NoPermissionNeeded.
func ParseDoc(doc []byte) ([]Section, error) {
	var (
		sections []Section
		errs     []string
		cur      *Section
		blocks   int
		marker   bool
		inJSON   bool
		inList   bool
		jsonBuf  bytes.Buffer
		jsonLine int
	)
	finish := func() {
		if cur == nil {
			return
		}
		switch {
		case blocks == 0 && !marker:
			errs = append(errs, fmt.Sprintf("line %d: %s has neither a ```json policy nor %q", cur.Line, cur.Component, NoPolicyMarker))
		case blocks > 0 && marker:
			errs = append(errs, fmt.Sprintf("line %d: %s has a policy and says %q", cur.Line, cur.Component, NoPolicyMarker))
		case blocks > 1:
			errs = append(errs, fmt.Sprintf("line %d: %s has %d policies; one per component", cur.Line, cur.Component, blocks))
		}
		allowed := cur.Actions()
		for _, a := range cur.Unexercised {
			if !slices.Contains(allowed, a) {
				errs = append(errs, fmt.Sprintf("line %d: %s lists %s as not exercised, but its policy does not allow it", cur.Line, cur.Component, a))
			}
		}
		sections = append(sections, *cur)
		cur = nil
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if inList && strings.TrimSpace(line) == "" {
			inList = false
		}
		if inList {
			for _, m := range quotedRe.FindAllStringSubmatch(line, -1) {
				cur.Unexercised = append(cur.Unexercised, m[1])
			}
			continue
		}
		switch {
		case inJSON && strings.HasPrefix(line, "```"):
			inJSON = false
			p, err := parsePolicy(jsonBuf.Bytes())
			if err != nil {
				errs = append(errs, fmt.Sprintf("line %d: %s: %v", jsonLine, cur.Component, err))
			}
			cur.Policy = p
		case inJSON:
			jsonBuf.WriteString(line + "\n")
		case strings.HasPrefix(line, "## "):
			finish()
			if m := headingRe.FindStringSubmatch(line); m != nil {
				if seen[m[1]] {
					errs = append(errs, fmt.Sprintf("line %d: a second section for %s", n, m[1]))
				}
				seen[m[1]] = true
				cur = &Section{Component: m[1], Line: n}
				blocks, marker = 0, false
			}
		case cur != nil && strings.HasPrefix(line, "```json"):
			inJSON, jsonLine = true, n
			jsonBuf.Reset()
			blocks++
		case cur != nil && strings.Contains(line, NoPolicyMarker):
			marker = true
		case cur != nil && strings.HasPrefix(line, UnexercisedPrefix):
			inList = true
			for _, m := range quotedRe.FindAllStringSubmatch(line, -1) {
				cur.Unexercised = append(cur.Unexercised, m[1])
			}
		}
	}
	if inJSON {
		errs = append(errs, fmt.Sprintf("line %d: the json block never ends", jsonLine))
	}
	finish()
	if len(errs) > 0 {
		return sections, fmt.Errorf("docs/iam.md:\n  %s", strings.Join(errs, "\n  "))
	}
	return sections, nil
}

// PolicyUnder reads the policy of another page, a component's own documentation: the first
// ```json block after the line heading (e.g. "## Required IAM permissions"), checked as ParseDoc
// checks those of docs/iam.md.
func PolicyUnder(doc []byte, heading string) (*Policy, error) {
	_, after, ok := bytes.Cut(doc, []byte("\n"+heading+"\n"))
	if !ok {
		return nil, fmt.Errorf("no heading %q", heading)
	}
	_, block, ok := bytes.Cut(after, []byte("\n```json\n"))
	if !ok {
		return nil, fmt.Errorf("no ```json block after %q", heading)
	}
	block, _, ok = bytes.Cut(block, []byte("\n```"))
	if !ok {
		return nil, fmt.Errorf("the ```json block after %q never ends", heading)
	}
	return parsePolicy(block)
}

// Actions are the actions the policy allows, sorted, without duplicates.
func (p *Policy) Actions() []string {
	var out []string
	for _, st := range p.Statement {
		out = append(out, st.Action...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func parsePolicy(data []byte) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a policy: %w", err)
	}
	var errs []string
	if p.Version != "2012-10-17" {
		errs = append(errs, fmt.Sprintf("Version %q, want 2012-10-17", p.Version))
	}
	if len(p.Statement) == 0 {
		errs = append(errs, "no Statement")
	}
	inStatement := map[string]string{}
	for i, st := range p.Statement {
		name := fmt.Sprintf("statement %d (%s)", i+1, st.Sid)
		if st.Sid == "" {
			errs = append(errs, fmt.Sprintf("statement %d has no Sid", i+1))
		}
		if st.Effect != "Allow" {
			errs = append(errs, fmt.Sprintf("%s: Effect %q; the policies only allow", name, st.Effect))
		}
		if len(st.Resource) == 0 {
			errs = append(errs, name+": no Resource")
		}
		if len(st.Action) == 0 {
			errs = append(errs, name+": no Action")
		}
		for _, a := range st.Action {
			switch {
			case !actionRe.MatchString(a):
				errs = append(errs, fmt.Sprintf("%s: %q is not one exact action of ec2, ssm, sts, autoscaling, kms or iam", name, a))
			case slices.Contains(NoPermissionNeeded, a):
				errs = append(errs, fmt.Sprintf("%s: %s needs no permission", name, a))
			case inStatement[a] != "":
				errs = append(errs, fmt.Sprintf("%s: %s is already in %s", name, a, inStatement[a]))
			default:
				inStatement[a] = name
			}
		}
	}
	if len(errs) > 0 {
		return &p, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return &p, nil
}

// Describe is the part of the plugin's `describe` output that names its components.
type Describe struct {
	Builders       []string `json:"builders"`
	Provisioners   []string `json:"provisioners"`
	PostProcessors []string `json:"post_processors"`
	Datasources    []string `json:"datasources"`
}

// Components are the HCL names of the described components, sorted ("golden-ebs", ...).
func (d Describe) Components() []string {
	var out []string
	for _, kind := range [][]string{d.Builders, d.Provisioners, d.PostProcessors, d.Datasources} {
		for _, name := range kind {
			out = append(out, "golden-"+name)
		}
	}
	slices.Sort(out)
	return out
}
