// Package iampolicy reads the IAM policies the component docs publish, so that tests can hold the
// code to them: a policy is the first ```json block after a heading of a Markdown page.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// document is the part of an IAM policy document the tests read.
type document struct {
	Statement []struct {
		Action json.RawMessage `json:"Action"`
	} `json:"Statement"`
}

// Actions returns the actions of every statement of the policy under heading (a line such as
// "## Required IAM permissions"), sorted, each once.
func Actions(markdown, heading string) ([]string, error) {
	_, after, ok := strings.Cut(markdown, "\n"+heading+"\n")
	if !ok {
		return nil, fmt.Errorf("no heading %q", heading)
	}
	_, block, ok := strings.Cut(after, "```json\n")
	if !ok {
		return nil, fmt.Errorf("no ```json block after %q", heading)
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok {
		return nil, fmt.Errorf("the ```json block after %q does not end", heading)
	}
	var doc document
	if err := json.Unmarshal([]byte(block), &doc); err != nil {
		return nil, fmt.Errorf("the policy under %q: %w", heading, err)
	}
	var actions []string
	for i, st := range doc.Statement {
		var one string
		var many []string
		switch {
		case json.Unmarshal(st.Action, &one) == nil:
			actions = append(actions, one)
		case json.Unmarshal(st.Action, &many) == nil:
			actions = append(actions, many...)
		default:
			return nil, fmt.Errorf("the policy under %q: statement %d has no Action string or list", heading, i)
		}
	}
	slices.Sort(actions)
	return slices.Compact(actions), nil
}
