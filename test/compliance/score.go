package compliance

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// xccdfItem is a group or rule of an XCCDF benchmark, with its weight.
type xccdfItem struct {
	id       string
	rule     bool
	weight   float64
	children []*xccdfItem
}

// xccdfResults is what an oscap results document holds: the benchmark's tree and each rule's
// result (rule ids without the SSG prefix).
type xccdfResults struct {
	root    *xccdfItem
	results map[string]string
	parent  map[string]string // rule -> the id of the group it is in
}

// parseResults reads the XCCDF document `oscap xccdf eval --results` writes: the benchmark with
// its groups and rules, and the TestResult's rule results.
func parseResults(r io.Reader) (xccdfResults, error) {
	res := xccdfResults{root: &xccdfItem{id: "benchmark", weight: 1}, results: map[string]string{}, parent: map[string]string{}}
	stack := []*xccdfItem{res.root}
	d := xml.NewDecoder(r)
	var ruleResult string
	inResult := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, err
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "Group", "Rule":
				it := &xccdfItem{id: strings.TrimPrefix(attr(e, "id"), ruleIDPrefix), rule: e.Name.Local == "Rule", weight: 1}
				if w := attr(e, "weight"); w != "" {
					if it.weight, err = strconv.ParseFloat(w, 64); err != nil {
						return res, fmt.Errorf("%s: weight %q: %w", it.id, w, err)
					}
				}
				top := stack[len(stack)-1]
				top.children = append(top.children, it)
				if it.rule {
					res.parent[it.id] = strings.TrimPrefix(top.id, "xccdf_org.ssgproject.content_group_")
				}
				stack = append(stack, it)
			case "rule-result":
				ruleResult = strings.TrimPrefix(attr(e, "idref"), ruleIDPrefix)
			case "result":
				inResult = ruleResult != ""
			}
		case xml.CharData:
			if inResult {
				res.results[ruleResult] += strings.TrimSpace(string(e))
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "Group", "Rule":
				stack = stack[:len(stack)-1]
			case "result":
				inResult = false
			case "rule-result":
				ruleResult = ""
			}
		}
	}
	if len(res.results) == 0 {
		return res, errors.New("no rule results in the document")
	}
	return res, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// defaultScore is XCCDF's default scoring model, which oscap prints: a rule that passed scores
// 100 and one that failed (or errored) 0; a group scores the weighted mean of its children that
// were scored; rules not applicable, not selected, not checked or informational and groups
// without a scored rule do not count. A lone failing rule in a small group therefore costs more
// than one among many.
func defaultScore(root *xccdfItem, results map[string]string) float64 {
	s, _ := itemScore(root, results)
	return s
}

func itemScore(it *xccdfItem, results map[string]string) (float64, bool) {
	if it.rule {
		switch results[it.id] {
		case "pass", "fixed":
			return 100, true
		case "fail", "error", "unknown":
			return 0, true
		}
		return 0, false
	}
	sum, weights := 0.0, 0.0
	for _, c := range it.children {
		if s, ok := itemScore(c, results); ok {
			sum += s * c.weight
			weights += c.weight
		}
	}
	if weights == 0 {
		return 0, false
	}
	return sum / weights, true
}

// RuleCost is what one failing rule costs the score: the score if it alone passed, minus the
// score.
type RuleCost struct {
	Rule   string  `json:"rule"`
	Group  string  `json:"group"`
	Points float64 `json:"points"`
}

// ruleCosts is the score of the results and the cost of each failing rule, most first.
func ruleCosts(r xccdfResults) (float64, []RuleCost) {
	score := defaultScore(r.root, r.results)
	var costs []RuleCost
	for id, result := range r.results {
		if result != "fail" && result != "error" && result != "unknown" {
			continue
		}
		passed := make(map[string]string, len(r.results))
		for k, v := range r.results {
			passed[k] = v
		}
		passed[id] = "pass"
		costs = append(costs, RuleCost{Rule: id, Group: r.parent[id], Points: round2(defaultScore(r.root, passed) - score)})
	}
	sort.Slice(costs, func(i, j int) bool {
		if costs[i].Points != costs[j].Points {
			return costs[i].Points > costs[j].Points
		}
		return costs[i].Rule < costs[j].Rule
	})
	return score, costs
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
