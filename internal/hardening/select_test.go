package hardening

import (
	"strings"
	"testing"
)

func selCatalogue() []Module {
	return []Module{
		{Name: "ssh", Controls: []Control{
			{ID: "ssh.root", Level: 1, Module: "ssh"},
			{ID: "ssh.forwarding", Level: 2, Module: "ssh"},
		}},
		{Name: "auditd", Controls: []Control{
			{ID: "auditd.installed", Level: 2, Module: "auditd"},
		}},
		{Name: "firewall", Controls: []Control{
			{ID: "firewall.ufw", Level: 1, Module: "firewall", OS: []string{"debian"}},
			{ID: "firewall.firewalld", Level: 1, Module: "firewall", OS: []string{"rhel"}},
			{ID: "firewall.ubuntu-only", Level: 1, Module: "firewall", OS: []string{"ubuntu"}},
		}},
	}
}

func ids(mods []Module) string {
	return strings.Join(PlannedIDs(mods), " ")
}

func TestSelect(t *testing.T) {
	debian := &OSInfo{ID: "debian", VersionID: "12", Family: "debian"}
	ubuntu := &OSInfo{ID: "ubuntu", VersionID: "22.04", Family: "debian"}
	rhel := &OSInfo{ID: "rhel", VersionID: "9.4", Family: "rhel"}
	cases := []struct {
		name string
		sel  Selection
		want string
	}{
		{"level 1", Selection{Profile: ProfileCISLevel1Server},
			"ssh.root firewall.ufw firewall.firewalld firewall.ubuntu-only"},
		{"level 2", Selection{Profile: ProfileCISLevel2Server},
			"ssh.root ssh.forwarding auditd.installed firewall.ufw firewall.firewalld firewall.ubuntu-only"},
		{"debian drops rhel and ubuntu-only controls", Selection{Profile: ProfileCISLevel1Server, OS: debian},
			"ssh.root firewall.ufw"},
		{"ubuntu is in the debian family", Selection{Profile: ProfileCISLevel1Server, OS: ubuntu},
			"ssh.root firewall.ufw firewall.ubuntu-only"},
		{"rhel", Selection{Profile: ProfileCISLevel1Server, OS: rhel}, "ssh.root firewall.firewalld"},
		{"skip a module and an id", Selection{Profile: ProfileCISLevel2Server, Skip: []string{"firewall", "ssh.root"}},
			"ssh.forwarding auditd.installed"},
		{"only a module keeps the profile's controls of it", Selection{Profile: ProfileCISLevel1Server, Only: []string{"ssh"}},
			"ssh.root"},
		{"only an id adds it whatever the profile", Selection{Profile: ProfileCISLevel1Server, Only: []string{"ssh", "auditd.installed"}},
			"ssh.root auditd.installed"},
		{"skip wins over only", Selection{Profile: ProfileCISLevel1Server, Only: []string{"ssh"}, Skip: []string{"ssh.root"}}, ""},
		{"include a module adds its controls of every level", Selection{Profile: ProfileCISLevel1Server, Include: []string{"auditd", "ssh"}},
			"ssh.root ssh.forwarding auditd.installed firewall.ufw firewall.firewalld firewall.ubuntu-only"},
		{"include an id adds that control only", Selection{Profile: ProfileCISLevel1Server, Include: []string{"ssh.forwarding"}, OS: debian},
			"ssh.root ssh.forwarding firewall.ufw"},
		{"only narrows what include widened", Selection{Profile: ProfileCISLevel1Server, Include: []string{"auditd"}, Only: []string{"auditd"}},
			"auditd.installed"},
		{"skip wins over include", Selection{Profile: ProfileCISLevel1Server, Include: []string{"auditd"}, Skip: []string{"auditd.installed"}, OS: debian},
			"ssh.root firewall.ufw"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(selCatalogue(), tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			if ids(got) != tc.want {
				t.Errorf("got %q, want %q", ids(got), tc.want)
			}
			for _, m := range got {
				if len(m.Controls) == 0 {
					t.Errorf("empty module %s kept", m.Name)
				}
			}
		})
	}
}

func TestSelectorErrors(t *testing.T) {
	errs := CheckSelectors(selCatalogue(), "skip", []string{"ssh", "ssh.rot", "auditd.installed", "sshh", "zzzzzzz"})
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		`skip: unknown control id or module "ssh.rot"; did you mean "ssh.root"?`,
		`skip: unknown control id or module "sshh"; did you mean "ssh"?`,
		`skip: unknown control id or module "zzzzzzz"`,
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	// Waivers name controls, never modules.
	errs = CheckControlIDs(selCatalogue(), `waiver "ssh": control`, []string{"ssh", "ssh.root"})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), `unknown control id "ssh"`) {
		t.Errorf("errs = %v", errs)
	}
	if _, err := Select(selCatalogue(), Selection{Profile: "cis-level3"}); err == nil || !strings.Contains(err.Error(), "unknown profile") {
		t.Errorf("err = %v", err)
	}
	if _, err := Select(selCatalogue(), Selection{Profile: ProfileBaseline, Only: []string{"nope"}}); err == nil {
		t.Error("unknown only entry accepted")
	}
}

// The real catalogue: ids are unique and well formed, modules are named as the contract says,
// the baseline names existing controls only, and every profile selects something on every
// supported OS.
func TestCatalogue(t *testing.T) {
	mods := Modules()
	if len(mods) == 0 {
		t.Skip("no module registered")
	}
	all := map[string]Control{}
	for _, m := range mods {
		if !moduleNamePat.MatchString(m.Name) {
			t.Errorf("module name %q", m.Name)
		}
		for _, c := range m.Controls {
			if _, dup := all[c.ID]; dup {
				t.Errorf("duplicate control id %s", c.ID)
			}
			all[c.ID] = c
			if !controlIDPattern.MatchString(c.ID) || !strings.HasPrefix(c.ID, m.Name+".") {
				t.Errorf("control id %q must be %s.<name>", c.ID, m.Name)
			}
			if c.Level != 1 && c.Level != 2 {
				t.Errorf("%s: level %d", c.ID, c.Level)
			}
			if c.Title == "" || strings.TrimSpace(c.Check) == "" {
				t.Errorf("%s: title and check are required", c.ID)
			}
		}
	}
	for id := range baselineControls {
		if _, ok := all[id]; !ok {
			t.Errorf("baseline names %s, which is not in the catalogue", id)
		}
	}
	for name := range baselineModules {
		found := false
		for _, m := range mods {
			found = found || m.Name == name
		}
		if !found {
			t.Errorf("baseline names module %s, which is not in the catalogue", name)
		}
	}
	for _, s := range supportedOS {
		if s.Planned {
			continue
		}
		for _, v := range s.Versions {
			o := OSInfo{ID: s.ID, VersionID: v, Family: osFamily(s.ID, nil)}
			for _, p := range Profiles() {
				sel, err := Select(mods, Selection{Profile: p, OS: &o})
				if err != nil || len(sel) == 0 {
					t.Errorf("profile %s on %s %s selects nothing (%v)", p, s.ID, v, err)
				}
			}
		}
	}
}
