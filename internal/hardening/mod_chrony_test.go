package hardening

import "testing"

func TestChronyValidate(t *testing.T) {
	cases := []struct {
		name   string
		opts   ChronyOptions
		option string
		n      int
	}{
		{"defaults", ChronyOptions{}, "", 0},
		{"pools only", ChronyOptions{Servers: []string{}, Pools: []string{"time.example.internal iburst maxsources 3"}}, "", 0},
		{"no source at all", ChronyOptions{Servers: []string{}}, "chrony.servers", 1},
		{"bad host", ChronyOptions{Servers: []string{"bad_host! iburst"}}, "chrony.servers", 1},
		{"unknown option", ChronyOptions{Servers: []string{"192.0.2.1 fast"}}, "chrony.servers", 1},
		{"missing value", ChronyOptions{Servers: []string{"192.0.2.1 minpoll"}}, "chrony.servers", 1},
		{"poll out of range", ChronyOptions{Servers: []string{"192.0.2.1 maxpoll 30"}}, "chrony.servers", 1},
		{"bad pool", ChronyOptions{Pools: []string{"pool.example maxsources x"}}, "chrony.pools", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOptionErrors(t, c.opts.validate(), c.option, c.n)
		})
	}
}

func TestChronyShellParams(t *testing.T) {
	p := (&ChronyOptions{}).shellParams()
	if p["CHRONY_SOURCES"] != "server 169.254.169.123 prefer iburst minpoll 4 maxpoll 4" || p["CHRONY_REPLACE_DEFAULT"] != "1" {
		t.Errorf("defaults %v", p)
	}
	keep := false
	p = (&ChronyOptions{Servers: []string{}, Pools: []string{"pool.example  iburst"}, ReplaceDefaultSources: &keep}).shellParams()
	if p["CHRONY_SOURCES"] != "pool pool.example iburst" || p["CHRONY_REPLACE_DEFAULT"] != "0" {
		t.Errorf("params %v", p)
	}
}
