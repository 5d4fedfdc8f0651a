package hardening

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/didyoumean"
)

// Profile names a set of controls.
type Profile string

const (
	// ProfileCISLevel1Server: every Level 1 control (the default).
	ProfileCISLevel1Server Profile = "cis-level1-server"
	// ProfileCISLevel2Server: every Level 1 and Level 2 control.
	ProfileCISLevel2Server Profile = "cis-level2-server"
	// ProfileBaseline: the settings of the hand-written playbook golden-harden replaces, done
	// right (see profiles.go).
	ProfileBaseline Profile = "baseline"
)

// DefaultProfile is used when a template sets none.
const DefaultProfile = ProfileCISLevel1Server

// Profiles lists every profile name.
func Profiles() []Profile {
	return []Profile{ProfileCISLevel1Server, ProfileCISLevel2Server, ProfileBaseline}
}

// ValidProfile reports whether name is a known profile.
func ValidProfile(name string) bool {
	for _, p := range Profiles() {
		if string(p) == name {
			return true
		}
	}
	return false
}

// Selection says which controls of a catalogue run.
type Selection struct {
	Profile Profile
	// Only, when not empty, narrows the run: a module name keeps the profile's controls of that
	// module; a control id keeps that control even when the profile does not include it.
	Only []string
	// Include adds controls to the profile: a module name adds every control of that module,
	// whatever its level; a control id adds that control. Only then narrows the widened set.
	Include []string
	// Skip removes control ids and whole modules; it wins over Only.
	Skip []string
	// OS, when set, drops the controls written for other systems. A control applies when its OS
	// list is empty or names the OS ID or its family ("debian" covers Ubuntu too).
	OS *OSInfo
}

// AppliesTo reports whether the control is written for the OS.
func (c Control) AppliesTo(o OSInfo) bool {
	if len(c.OS) == 0 {
		return true
	}
	for _, s := range c.OS {
		if s == o.ID || (o.Family != "" && s == o.Family) {
			return true
		}
	}
	return false
}

// Select returns the modules of the catalogue, in run order, with only the selected controls;
// modules left without controls are dropped. It is a pure function of its inputs.
func Select(catalogue []Module, s Selection) ([]Module, error) {
	if !ValidProfile(string(s.Profile)) {
		return nil, fmt.Errorf("unknown profile %q (known: %s)", s.Profile, profileList())
	}
	if errs := CheckSelectors(catalogue, "only", s.Only); len(errs) > 0 {
		return nil, errs[0]
	}
	if errs := CheckSelectors(catalogue, "skip", s.Skip); len(errs) > 0 {
		return nil, errs[0]
	}
	if errs := CheckSelectors(catalogue, "include", s.Include); len(errs) > 0 {
		return nil, errs[0]
	}
	only, skip, include := toSet(s.Only), toSet(s.Skip), toSet(s.Include)
	var out []Module
	for _, m := range catalogue {
		sel := m
		sel.Controls = nil
		for _, c := range m.Controls {
			if s.OS != nil && !c.AppliesTo(*s.OS) {
				continue
			}
			if skip[c.ID] || skip[m.Name] {
				continue
			}
			wanted := inProfile(s.Profile, c) || include[c.ID] || include[m.Name]
			if len(only) > 0 {
				wanted = only[c.ID] || (only[m.Name] && wanted)
			}
			if wanted {
				sel.Controls = append(sel.Controls, c)
			}
		}
		if len(sel.Controls) > 0 {
			out = append(out, sel)
		}
	}
	return out, nil
}

// CheckSelectors returns one error per entry of a skip/only list that is neither a module name
// nor a control id of the catalogue, naming the option and suggesting the closest name.
func CheckSelectors(catalogue []Module, option string, entries []string) []error {
	return checkNames(catalogue, true, option, "control id or module", entries)
}

// CheckControlIDs returns one error per id that is not a control id of the catalogue (waivers
// name single controls, not modules).
func CheckControlIDs(catalogue []Module, option string, ids []string) []error {
	return checkNames(catalogue, false, option, "control id", ids)
}

func checkNames(catalogue []Module, withModules bool, option, kind string, entries []string) []error {
	known := map[string]bool{}
	for _, m := range catalogue {
		known[m.Name] = withModules
		for _, c := range m.Controls {
			known[c.ID] = true
		}
	}
	var names []string
	for k, ok := range known {
		if ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var errs []error
	for _, e := range entries {
		if known[e] {
			continue
		}
		if s := didyoumean.NameSuggestion(e, names); s != "" {
			errs = append(errs, fmt.Errorf("%s: unknown %s %q; did you mean %q?", option, kind, e, s))
		} else {
			errs = append(errs, fmt.Errorf("%s: unknown %s %q", option, kind, e))
		}
	}
	return errs
}

func toSet(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, i := range items {
		m[i] = true
	}
	return m
}

func profileList() string {
	names := make([]string, 0, len(Profiles()))
	for _, p := range Profiles() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
