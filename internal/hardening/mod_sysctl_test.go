package hardening

import (
	"strconv"
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
