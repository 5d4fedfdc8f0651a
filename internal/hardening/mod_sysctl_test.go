package hardening

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestSysctlValidate(t *testing.T) {
	cases := []struct {
		name      string
		overrides map[string]string
		n         int
	}{
		{"defaults", nil, 0},
		{"override a catalogue key and add one", map[string]string{"net.ipv4.ip_forward": "1", "net.core.somaxconn": "4096"}, 0},
		{"glob", map[string]string{"net.ipv4.conf.*.rp_filter": "1"}, 0},
		{"not a sysctl name", map[string]string{"net ipv4": "1"}, 1},
		{"no dot", map[string]string{"kernel": "1"}, 1},
		{"outside kernel/fs/net", map[string]string{"vm.swappiness": "10"}, 1},
		{"empty value", map[string]string{"net.ipv4.ip_forward": " "}, 1},
		{"multi-line value", map[string]string{"net.ipv4.ip_forward": "1\n0"}, 1},
		{"two bad entries", map[string]string{"vm.x": "1", "bad": ""}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOptionErrors(t, (&SysctlOptions{Overrides: c.overrides}).validate(), "sysctl.overrides", c.n)
		})
	}
}

func TestSysctlShellParams(t *testing.T) {
	p := (&SysctlOptions{}).shellParams()
	want := map[string]string{
		"SYSCTL_KERNEL_RANDOMIZE_VA_SPACE":       "2",
		"SYSCTL_NET_IPV4_IP_FORWARD":             "0",
		"SYSCTL_NET_IPV4_CONF_ALL_LOG_MARTIANS":  "1",
		"SYSCTL_NET_IPV6_CONF_DEFAULT_ACCEPT_RA": "0",
		"SYSCTL_NET_IPV4_CONF_DEFAULT_RP_FILTER": "1",
		"SYSCTL_ROUTER":                          "0",
		"SYSCTL_CUSTOM":                          "",
		"SYSCTL_OVERRIDDEN":                      "",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	p = (&SysctlOptions{Router: true, Overrides: map[string]string{
		"net.ipv6.conf.all.forwarding": "1", "net.core.rmem_max": "4096  8192",
	}}).shellParams()
	if p["SYSCTL_NET_IPV4_IP_FORWARD"] != "" || p["SYSCTL_NET_IPV4_CONF_ALL_SEND_REDIRECTS"] != "" {
		t.Errorf("router: forwarding and redirects must be left alone, got %q %q", p["SYSCTL_NET_IPV4_IP_FORWARD"], p["SYSCTL_NET_IPV4_CONF_ALL_SEND_REDIRECTS"])
	}
	if p["SYSCTL_NET_IPV6_CONF_ALL_FORWARDING"] != "1" || p["SYSCTL_OVERRIDDEN"] != "net.ipv6.conf.all.forwarding" {
		t.Errorf("override of a router-exempt key: %q, overridden %q", p["SYSCTL_NET_IPV6_CONF_ALL_FORWARDING"], p["SYSCTL_OVERRIDDEN"])
	}
	if p["SYSCTL_CUSTOM"] != "net.core.rmem_max=4096 8192" || p["SYSCTL_ROUTER"] != "1" {
		t.Errorf("custom %q router %q", p["SYSCTL_CUSTOM"], p["SYSCTL_ROUTER"])
	}
}

// Every CIS 3.3 item is covered, each control names its keys with their parameter.
func TestSysctlCatalogueCoversCIS33(t *testing.T) {
	have := map[string]bool{}
	for _, c := range moduleByName(t, "sysctl").Controls {
		for _, r := range c.Refs {
			have[r.Benchmark+" "+r.ID] = true
		}
	}
	for i := 1; i <= 11; i++ {
		for _, b := range []string{benchUbuntu2204, benchDebian12} {
			id := b + " 3.3." + strconv.Itoa(i)
			if !have[id] {
				t.Errorf("no control references %s", id)
			}
		}
	}
}

// sysctlAwkCase builds the environment sysctlAwk gets from its snippet, for files in a temporary
// directory: "proc/<key>" files stand for /proc/sys, ours is 60-golden-hardening.conf.
type sysctlAwkCase struct {
	want       string            // "key=value" lines
	access     map[string]string // key -> rw, ro, absent (no entry: absent)
	live       map[string]string // key -> content of its proc file
	ours       string            // content of our file; "-" = no file
	other      map[string]string // "A name" / "L name" -> content
	overridden string
}

func (c sysctlAwkCase) run(t *testing.T, op string) (awkRun, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	var keys, list []string
	for k, a := range c.access {
		p := filepath.Join(dir, "proc", k)
		if a != "absent" {
			files["proc/"+k] = c.live[k]
		}
		keys = append(keys, k+"\t"+a+"\t"+p)
	}
	for spec, content := range c.other {
		kind, name, _ := strings.Cut(spec, " ")
		files[name] = content
		list = append(list, kind+" "+filepath.Join(dir, name))
	}
	sort.Strings(list)
	ours := filepath.Join(dir, "60-golden-hardening.conf")
	if c.ours != "-" {
		files["60-golden-hardening.conf"] = c.ours
	}
	writeFiles(t, dir, files)
	newFile := filepath.Join(dir, "new.conf")
	return awkRun{env: map[string]string{
		"_op": op, "_ours": ours, "_want": c.want, "_keys": strings.Join(keys, "\n") + "\n",
		"_files": strings.Join(list, "\n") + "\n", "_overridden": c.overridden, "_new": newFile,
	}}, dir
}

func TestSysctlAwkCheck(t *testing.T) {
	rw := func(keys ...string) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = "rw"
		}
		return m
	}
	cases := []struct {
		name   string
		c      sysctlAwkCase
		code   int
		lines  []string
		absent []string
	}{
		{"compliant, vector value, a contradiction sorting before ours does not count",
			sysctlAwkCase{want: "net.a=1\nnet.v=4096 87380 6291456", access: rw("net.a", "net.v"),
				live:  map[string]string{"net.a": "1\n", "net.v": "4096\t87380\t6291456\n"},
				ours:  "# ours\nnet.a = 1\nnet.v = 4096 87380  6291456\n",
				other: map[string]string{"A sysctl.conf": "net.a = 1\n# net.a = 0\n", "L 10-early.conf": "net.a = 0\n"}},
			0, []string{"net.a = 1", "net.v = 4096 87380 6291456"}, []string{"contradicting"}},
		{"a later file and UFW's slash form contradict ours",
			sysctlAwkCase{want: "net.a=1\nnet.b=0", access: rw("net.a", "net.b"), live: map[string]string{"net.a": "1\n", "net.b": "0\n"},
				ours:  "net.a = 1\nnet.b = 0\n",
				other: map[string]string{"L 99-late.conf": "-net.a=0\n", "A ufw.conf": "x=1\nnet/b=1\n"}},
			1, []string{"contradicting assignments:", "/ufw.conf:2: net.b = 1", "/99-late.conf:1: net.a = 0"}, nil},
		{"a duplicate in our file with another value",
			sysctlAwkCase{want: "net.a=1", access: rw("net.a"), live: map[string]string{"net.a": "1\n"}, ours: "net.a = 1\nnet.a = 0\n"},
			1, []string{"/60-golden-hardening.conf: net.a is not 1", "net.a = 1"}, nil},
		{"no file, running value differs",
			sysctlAwkCase{want: "net.a=1", access: rw("net.a"), live: map[string]string{"net.a": "0\n"}, ours: "-"},
			1, []string{"/60-golden-hardening.conf: net.a is not 1", "net.a = 0 (want 1)"}, nil},
		{"read-only here: in force at the next boot",
			sysctlAwkCase{want: "kernel.k=2\nnet.a=1", access: map[string]string{"kernel.k": "ro", "net.a": "rw"},
				live: map[string]string{"kernel.k": "0\n", "net.a": "1\n"}, ours: "kernel.k = 2\nnet.a = 1\n", overridden: "kernel.k"},
			3, []string{"kernel.k: value 2 set by sysctl.overrides", "kernel.k = 0 (want 2; read-only here,", "net.a = 1"}, nil},
		{"a key the kernel lacks is left out; the router exemption is said",
			sysctlAwkCase{want: "net.ipv6.x=0\nnet.f=\nnet.a=1", access: map[string]string{"net.ipv6.x": "absent", "net.a": "rw"},
				live: map[string]string{"net.a": "1\n"}, ours: "net.a = 1\n"},
			0, []string{"net.ipv6.x: not present in this kernel", "net.f: left as it is (sysctl.router)", "net.a = 1"}, nil},
		{"nothing applies",
			sysctlAwkCase{want: "net.ipv6.x=0", access: map[string]string{"net.ipv6.x": "absent"}, ours: "-"},
			2, []string{"net.ipv6.x: not present in this kernel", "no parameter of this control applies here"}, nil},
		{"a glob is checked in the file only",
			sysctlAwkCase{want: "net.ipv4.conf.*.rp_filter=1", ours: "net.ipv4.conf.*.rp_filter = 1\n"},
			0, []string{"net.ipv4.conf.*.rp_filter = 1 in"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := tc.c.run(t, "check")
			wantAwk(t, sysctlAwk, r, tc.code, tc.lines, tc.absent...)
		})
	}
}

func TestSysctlAwkFix(t *testing.T) {
	for _, awk := range awkImplementations(t) {
		t.Run(awk.String(), func(t *testing.T) {
			c := sysctlAwkCase{want: "net.a=1\nnet.k=2\nnet.v=4096 131072 6291456\nnet.r=", access: map[string]string{"net.a": "rw", "net.k": "ro", "net.v": "rw"},
				live: map[string]string{"net.a": "0\n", "net.k": "0\n", "net.v": "4096\t131072\t6291456\n"},
				ours: "# kept\nnet.a = 0\nnet.x = 5\nnet.a = 1\n", other: map[string]string{"A sysctl.conf": "\nnet.a=7\n"}}
			r, dir := c.run(t, "fix")
			out, code := r.run(t, awk, sysctlAwk)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, out)
			}
			wantOut := "set net.a=1\nconflict " + filepath.Join(dir, "sysctl.conf") + ":2: net.a = 7\n"
			if out != wantOut {
				t.Errorf("output %q, want %q", out, wantOut)
			}
			wantFile := "# kept\nnet.a = 1\nnet.x = 5\n# net.a = 1\nnet.k = 2\nnet.v = 4096 131072 6291456\n"
			if got := readFile(t, filepath.Join(dir, "new.conf")); got != wantFile {
				t.Errorf("new file %q, want %q", got, wantFile)
			}

			c = sysctlAwkCase{want: "net.a=1", access: map[string]string{"net.a": "rw"}, live: map[string]string{"net.a": "1\n"}, ours: "-"}
			r, dir = c.run(t, "fix")
			if out, code := r.run(t, awk, sysctlAwk); code != 0 || out != "" {
				t.Errorf("exit %d, output %q", code, out)
			}
			if got := readFile(t, filepath.Join(dir, "new.conf")); !strings.HasPrefix(got, "# golden-harden:") || !strings.HasSuffix(got, "\nnet.a = 1\n") {
				t.Errorf("new file %q", got)
			}

			// The fix of a later control reads the module's pending copy (_read) instead of the
			// file: the earlier fixes' keys stay.
			c = sysctlAwkCase{want: "net.b=2", access: map[string]string{"net.b": "rw"}, live: map[string]string{"net.b": "0\n"}, ours: "net.a = 0\n"}
			r, dir = c.run(t, "fix")
			pending := filepath.Join(dir, "pending")
			writeFiles(t, dir, map[string]string{"pending": "# header\nnet.a = 1\n"})
			r.env["_read"] = pending
			if out, code := r.run(t, awk, sysctlAwk); code != 0 || out != "set net.b=2\n" {
				t.Errorf("with _read: exit %d, output %q", code, out)
			}
			if got := readFile(t, filepath.Join(dir, "new.conf")); got != "# header\nnet.a = 1\nnet.b = 2\n" {
				t.Errorf("with _read: new file %q", got)
			}
		})
	}
}
