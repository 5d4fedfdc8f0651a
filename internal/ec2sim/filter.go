package ec2sim

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// filter is one EC2 Filter: the values are alternatives (OR); several filters all apply (AND).
type filter struct {
	name   string
	values []string
}

func readFilters(p queryParams) []filter {
	var out []filter
	for _, f := range p.list("Filter") {
		out = append(out, filter{name: f.get("Name"), values: f.strings("Value")})
	}
	return out
}

// maxFilterValues is how many values EC2 accepts across the filters of one call.
const maxFilterValues = 200

// listing is how one Describe action filters and pages a kind of resource.
type listing[T any] struct {
	action string
	fields map[string]fieldFunc[T]
	tags   func(T) map[string]string // nil: the resource has no tags to filter on
	// minResults and maxResults bound MaxResults; zero maxResults: the action does not page.
	minResults, maxResults int
}

// page applies the request's Filter, MaxResults and NextToken to the candidates, keeping only
// those keep accepts (nil keeps all). idsGiven refuses MaxResults as AWS does when the caller
// names resources by id.
func (l listing[T]) page(p queryParams, idsGiven bool, candidates []T, keep func(T) bool) ([]T, string, error) {
	filters := readFilters(p)
	if err := checkFilters(filters, l.fields, l.tags != nil); err != nil {
		return nil, "", err
	}
	values := 0
	for _, f := range filters {
		values += len(f.values)
	}
	if values > maxFilterValues {
		return nil, "", errorf("FilterLimitExceeded", "The maximum number of filter values specified on a single call is %d", maxFilterValues)
	}
	maxResults := 0
	if l.maxResults > 0 {
		var err error
		if maxResults, err = maxResultsParam(p, "MaxResults", l.minResults, l.maxResults, idsGiven); err != nil {
			return nil, "", err
		}
	}
	var matched []T
	for _, item := range candidates {
		if (keep == nil || keep(item)) && matchFilters(item, filters, l.fields, l.tags) {
			matched = append(matched, item)
		}
	}
	pg, err := paginate(l.action, len(matched), maxResults, p.get("NextToken"))
	if err != nil {
		return nil, "", err
	}
	return matched[pg.start:pg.end], pg.next, nil
}

// fieldFunc returns the values of one filterable attribute of a resource.
type fieldFunc[T any] func(T) []string

// matchFilters reports whether a resource passes every filter. Values may use EC2's
// wildcards: * for any run of characters, ? for one. tag:Key, tag-key and tag-value work for
// every resource that has tags.
func matchFilters[T any](item T, filters []filter, fields map[string]fieldFunc[T], tags func(T) map[string]string) bool {
	for _, f := range filters {
		var have []string
		switch {
		case strings.HasPrefix(f.name, "tag:") && tags != nil:
			v, ok := tags(item)[strings.TrimPrefix(f.name, "tag:")]
			if !ok {
				return false
			}
			have = []string{v}
		case f.name == "tag-key" && tags != nil:
			for k := range tags(item) {
				have = append(have, k)
			}
		case f.name == "tag-value" && tags != nil:
			for _, v := range tags(item) {
				have = append(have, v)
			}
		default:
			have = fields[f.name](item)
		}
		if !anyMatch(f.values, have) {
			return false
		}
	}
	return true
}

// checkFilters rejects filter names the resource does not know, as EC2 does.
func checkFilters[T any](filters []filter, fields map[string]fieldFunc[T], tagged bool) error {
	for _, f := range filters {
		if tagged && (strings.HasPrefix(f.name, "tag:") || f.name == "tag-key" || f.name == "tag-value") {
			continue
		}
		if _, ok := fields[f.name]; !ok {
			return errorf("InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
	}
	return nil
}

func anyMatch(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if wildcardMatch(p, v) {
				return true
			}
		}
	}
	return false
}

// wildcardMatch applies EC2 filter wildcards: * is any run of characters (slashes included,
// as image names like ubuntu/images/... need), ? is one character, a backslash escapes either.
func wildcardMatch(pattern, value string) bool {
	if !strings.ContainsAny(pattern, "*?\\") {
		return pattern == value
	}
	p, v := []rune(pattern), []rune(value)
	memo := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		key := [2]int{i, j}
		if r, ok := memo[key]; ok {
			return r
		}
		var r bool
		switch {
		case i == len(p):
			r = j == len(v)
		case p[i] == '*':
			r = match(i+1, j) || (j < len(v) && match(i, j+1))
		case p[i] == '\\' && i+1 < len(p):
			r = j < len(v) && v[j] == p[i+1] && match(i+2, j+1)
		case p[i] == '?':
			r = j < len(v) && match(i+1, j+1)
		default:
			r = j < len(v) && v[j] == p[i] && match(i+1, j+1)
		}
		memo[key] = r
		return r
	}
	return match(0, 0)
}

func one(s string) []string { return []string{s} }

func boolString(b bool) string { return strconv.FormatBool(b) }

// page is a slice of results and the token for the rest.
type page struct {
	start, end int
	next       string
}

// paginate cuts n ordered results to one page. The token is the offset of the next result,
// bound to the action so a token from another listing is refused.
func paginate(action string, n int, maxResults int, token string) (page, error) {
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		parts := strings.SplitN(string(raw), ":", 2)
		if err != nil || len(parts) != 2 || parts[0] != action {
			return page{}, errorf("InvalidParameterValue", "The token '%s' is invalid.", token)
		}
		start, err = strconv.Atoi(parts[1])
		if err != nil || start < 0 {
			return page{}, errorf("InvalidParameterValue", "The token '%s' is invalid.", token)
		}
	}
	if start > n {
		start = n
	}
	end := n
	if maxResults > 0 && start+maxResults < n {
		end = start + maxResults
	}
	pg := page{start: start, end: end}
	if end < n {
		pg.next = base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d", action, end)))
	}
	return pg, nil
}

// maxResultsParam reads MaxResults and checks it against the action's documented range.
// AWS refuses MaxResults together with an explicit id list for most Describe calls.
func maxResultsParam(p queryParams, name string, lo, hi int, idsGiven bool) (int, error) {
	n, set, err := p.integer(name)
	if err != nil || !set {
		return 0, err
	}
	if idsGiven {
		return 0, errorf("InvalidParameterCombination", "The parameter %s cannot be used with the ids parameter", name)
	}
	if n < lo || n > hi {
		return 0, errorf("InvalidParameterValue", "Value ( %d ) for parameter %s is invalid. Expecting a value between %d and %d.", n, name, lo, hi)
	}
	return n, nil
}
