package ec2sim

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// queryParams are the flattened form parameters of a Query-protocol call
// ("Filter.1.Name=name&Filter.1.Value.1=golden-*"), read through a prefix so nested
// structures and lists read like fields.
type queryParams struct {
	values url.Values
	prefix string
}

func parseQuery(rawQuery string, body []byte) queryParams {
	v, _ := url.ParseQuery(rawQuery)
	if v == nil {
		v = url.Values{}
	}
	form, _ := url.ParseQuery(string(body))
	for k, vals := range form {
		v[k] = append(v[k], vals...)
	}
	return queryParams{values: v}
}

func (p queryParams) get(name string) string { return p.values.Get(p.prefix + name) }

func (p queryParams) has(name string) bool {
	key := p.prefix + name
	if _, ok := p.values[key]; ok {
		return true
	}
	for k := range p.values {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}

func (p queryParams) boolean(name string) bool {
	return strings.EqualFold(p.get(name), "true")
}

// optBool reads a boolean that may be absent.
func (p queryParams) optBool(name string) (value, set bool) {
	v := p.get(name)
	return strings.EqualFold(v, "true"), v != ""
}

func (p queryParams) integer(name string) (int, bool, error) {
	v := p.get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, true, errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected an integer.", v, name)
	}
	return n, true, nil
}

// sub reads a nested structure: sub("LaunchTemplateData").get("ImageId").
func (p queryParams) sub(name string) queryParams {
	return queryParams{values: p.values, prefix: p.prefix + name + "."}
}

// indexes returns the list indexes present under name, in order: EC2 flattens lists as
// "Name.1", "Name.2"; AWS Query wraps them as "Name.member.1".
func (p queryParams) indexes(name string) []int {
	key := p.prefix + name + "."
	seen := map[int]bool{}
	for k := range p.values {
		if !strings.HasPrefix(k, key) {
			continue
		}
		rest := k[len(key):]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		if n, err := strconv.Atoi(rest); err == nil {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// strings reads a flattened list of strings ("ImageId.1", "ImageId.2").
func (p queryParams) strings(name string) []string {
	var out []string
	for _, i := range p.indexes(name) {
		out = append(out, p.get(name+"."+strconv.Itoa(i)))
	}
	return out
}

// list reads a flattened list of structures.
func (p queryParams) list(name string) []queryParams {
	var out []queryParams
	for _, i := range p.indexes(name) {
		out = append(out, p.sub(name+"."+strconv.Itoa(i)))
	}
	return out
}

// members reads an AWS Query list of strings ("Names.member.1").
func (p queryParams) members(name string) []string { return p.sub(name).strings("member") }

// memberList reads an AWS Query list of structures.
func (p queryParams) memberList(name string) []queryParams { return p.sub(name).list("member") }
