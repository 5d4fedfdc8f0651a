package probe

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Goss reads a goss file (YAML) natively: its resources of the types golden-validate has become
// probes, and nothing of goss runs on the image. Anything it cannot map exactly (another resource
// type, an attribute this probe type does not check, a gomega matcher where a value is expected,
// an include) is an error naming the resource and its line, so that a test that would be
// skipped is never taken for one that passed. Resources with `skip: true` are left out; `title`
// and `meta` are ignored.
func Goss(name string, data []byte) ([]Probe, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty goss file", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: line %d: a goss file is a mapping of resource types", name, root.Line)
	}
	var probes []Probe
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		kind, resources := root.Content[i], root.Content[i+1]
		mapper, ok := gossTypes[kind.Value]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: line %d: goss resource type %q has no golden-validate probe (supported: %s)",
				name, kind.Line, kind.Value, strings.Join(gossTypeNames(), ", ")))
			continue
		}
		if resources.Kind != yaml.MappingNode {
			errs = append(errs, fmt.Errorf("%s: line %d: %s: want a mapping of resources", name, resources.Line, kind.Value))
			continue
		}
		for j := 0; j+1 < len(resources.Content); j += 2 {
			key, body := resources.Content[j], resources.Content[j+1]
			where := fmt.Sprintf("%s: line %d: %s %q", name, key.Line, kind.Value, key.Value)
			attrs, err := gossAttributes(body)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			if skip, ok := attrs["skip"]; ok {
				delete(attrs, "skip")
				if b, err := skip.boolean(); err != nil {
					errs = append(errs, fmt.Errorf("%s: skip: %w", where, err))
					continue
				} else if b {
					continue
				}
			}
			delete(attrs, "title")
			delete(attrs, "meta")
			p, err := mapper(key.Value, attrs)
			if err == nil {
				for attr, v := range attrs {
					err = errors.Join(err, fmt.Errorf("line %d: attribute %q is not supported by golden-validate's %s probe", v.node.Line, attr, kind.Value))
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				continue
			}
			probes = append(probes, p)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return probes, nil
}

// gossValue is one attribute of a goss resource.
type gossValue struct{ node *yaml.Node }

func gossAttributes(body *yaml.Node) (map[string]gossValue, error) {
	attrs := map[string]gossValue{}
	if body.Kind == yaml.ScalarNode && body.Tag == "!!null" {
		return attrs, nil
	}
	if body.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("want a mapping of attributes")
	}
	for i := 0; i+1 < len(body.Content); i += 2 {
		attrs[body.Content[i].Value] = gossValue{body.Content[i+1]}
	}
	return attrs, nil
}

func (v gossValue) scalar() (string, error) {
	if v.node.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: want a plain value, not a matcher or list (golden-validate compares values exactly)", v.node.Line)
	}
	return v.node.Value, nil
}

func (v gossValue) boolean() (bool, error) {
	s, err := v.scalar()
	if err != nil {
		return false, err
	}
	var b bool
	if err := v.node.Decode(&b); err != nil || v.node.Tag != "!!bool" {
		return false, fmt.Errorf("line %d: %q is not true or false", v.node.Line, s)
	}
	return b, nil
}

func (v gossValue) integer() (int, error) {
	s, err := v.scalar()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("line %d: %q is not a whole number", v.node.Line, s)
	}
	return n, nil
}

func (v gossValue) strings() ([]string, error) {
	if v.node.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: want a list of values", v.node.Line)
	}
	var out []string
	for _, item := range v.node.Content {
		if item.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: want plain values in the list, not matchers", item.Line)
		}
		out = append(out, item.Value)
	}
	return out, nil
}

// gossReader takes attributes out of a resource's map as they are read; what remains was not
// understood.
type gossReader struct {
	attrs map[string]gossValue
	err   error
}

func (r *gossReader) take(name string) (gossValue, bool) {
	v, ok := r.attrs[name]
	delete(r.attrs, name)
	return v, ok
}

func (r *gossReader) fail(name string, err error) {
	r.err = errors.Join(r.err, fmt.Errorf("%s: %w", name, err))
}

func (r *gossReader) boolPtr(name string) *bool {
	v, ok := r.take(name)
	if !ok {
		return nil
	}
	b, err := v.boolean()
	if err != nil {
		r.fail(name, err)
	}
	return &b
}

func (r *gossReader) intPtr(name string) *int {
	v, ok := r.take(name)
	if !ok {
		return nil
	}
	n, err := v.integer()
	if err != nil {
		r.fail(name, err)
	}
	return &n
}

func (r *gossReader) str(name string) string {
	v, ok := r.take(name)
	if !ok {
		return ""
	}
	s, err := v.scalar()
	if err != nil {
		r.fail(name, err)
	}
	return s
}

func (r *gossReader) list(name string) []string {
	v, ok := r.take(name)
	if !ok {
		return nil
	}
	l, err := v.strings()
	if err != nil {
		r.fail(name, err)
	}
	return l
}

// millis reads goss's timeouts, in milliseconds, as a duration string (at least a second).
func (r *gossReader) millis(name string) string {
	n := r.intPtr(name)
	if n == nil {
		return ""
	}
	d := time.Duration(*n) * time.Millisecond
	if d < time.Second {
		d = time.Second
	}
	return d.String()
}

type gossMapper func(key string, attrs map[string]gossValue) (Probe, error)

// gossTypes maps goss resource types to probes. goss's `tcp`/`udp` ports are its IPv4 tables,
// hence tcp4/udp4.
var gossTypes = map[string]gossMapper{
	"service": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		p := &Service{Name: key, Running: r.boolPtr("running"), Enabled: r.boolPtr("enabled")}
		// goss checks only what a resource states: an entry with only `enabled` says nothing
		// about running, where the service probe's default would require it.
		p.runningUnchecked = p.Running == nil && p.Enabled != nil
		return p, r.err
	},
	"package": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		p := &Package{Name: key, Installed: r.boolPtr("installed")}
		if versions := r.list("versions"); len(versions) > 1 {
			r.fail("versions", errors.New("lists several versions; golden-validate checks one version (or a comparison)"))
		} else if len(versions) == 1 {
			p.Version = "= " + versions[0]
		}
		return p, r.err
	},
	"port": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		spec := key
		if proto, num, ok := strings.Cut(key, ":"); ok && (proto == "tcp" || proto == "udp") {
			spec = proto + "4:" + num
		}
		return &Port{Port: spec, Listening: r.boolPtr("listening"), Addresses: r.list("ip")}, r.err
	},
	"file": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		p := &File{Path: key, Exists: r.boolPtr("exists"), Filetype: r.str("filetype"), Mode: r.str("mode"),
			Owner: r.str("owner"), Group: r.str("group"), Contents: r.list("contents")}
		if old := r.list("contains"); old != nil {
			p.Contents = append(p.Contents, old...)
		}
		return p, r.err
	},
	"kernel-param": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		return &Sysctl{Name: key, Value: r.str("value")}, r.err
	},
	"mount": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		return &Mount{Path: key, Exists: r.boolPtr("exists"), Options: r.list("opts"), Filesystem: r.str("filesystem"), Source: r.str("source")}, r.err
	},
	"user": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		return &User{Name: key, Exists: r.boolPtr("exists"), UID: r.intPtr("uid"), GID: r.intPtr("gid"),
			Groups: r.list("groups"), Home: r.str("home"), Shell: r.str("shell")}, r.err
	},
	"group": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		return &Group{Name: key, Exists: r.boolPtr("exists"), GID: r.intPtr("gid")}, r.err
	},
	"process": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		return &Process{Name: key, Running: r.boolPtr("running")}, r.err
	},
	"command": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		p := &Command{Command: key, ExitStatus: r.intPtr("exit-status"), Stdout: r.list("stdout"), Stderr: r.list("stderr"),
			ExecTimeout: r.millis("timeout")}
		if exec := r.str("exec"); exec != "" {
			p.Command = exec
		}
		return p, r.err
	},
	"http": func(key string, a map[string]gossValue) (Probe, error) {
		r := &gossReader{attrs: a}
		p := &HTTP{URL: key, Status: r.intPtr("status"), Body: r.list("body"), RequestTimeout: r.millis("timeout")}
		if b := r.boolPtr("allow-insecure"); b != nil {
			p.AllowInsecure = *b
		}
		if u := r.str("url"); u != "" {
			p.URL = u
		}
		return p, r.err
	},
}

func gossTypeNames() []string {
	names := make([]string, 0, len(gossTypes))
	for n := range gossTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
