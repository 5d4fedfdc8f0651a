package hardening

import "testing"

func TestFail2banValidate(t *testing.T) {
	cases := []struct {
		name   string
		opts   Fail2banOptions
		option string
		n      int
	}{
		{"defaults", Fail2banOptions{}, "", 0},
		{"custom", Fail2banOptions{Bantime: "24h", Findtime: "15m", Maxretry: 5, Ignoreip: []string{"10.0.0.0/8", "192.0.2.1"}}, "", 0},
		{"bantime not a duration", Fail2banOptions{Bantime: "1 day"}, "fail2ban.bantime", 1},
		{"bantime below a second", Fail2banOptions{Bantime: "500ms"}, "fail2ban.bantime", 1},
		{"negative findtime", Fail2banOptions{Findtime: "-10m"}, "fail2ban.findtime", 1},
		{"maxretry too big", Fail2banOptions{Maxretry: 1000}, "fail2ban.maxretry", 1},
		{"negative maxretry", Fail2banOptions{Maxretry: -1}, "fail2ban.maxretry", 1},
		{"bad ignoreip", Fail2banOptions{Ignoreip: []string{"10.0.0.0/40", "nope"}}, "fail2ban.ignoreip", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOptionErrors(t, c.opts.validate(), c.option, c.n)
		})
	}
}

func TestFail2banShellParams(t *testing.T) {
	p := (&Fail2banOptions{}).shellParams()
	if p["FAIL2BAN_BANTIME"] != "3600" || p["FAIL2BAN_FINDTIME"] != "600" || p["FAIL2BAN_MAXRETRY"] != "3" || p["FAIL2BAN_IGNOREIP"] != "127.0.0.1/8 ::1" {
		t.Errorf("defaults %v", p)
	}
	p = (&Fail2banOptions{Bantime: "1h30m", Ignoreip: []string{"10.0.0.0/8"}}).shellParams()
	if p["FAIL2BAN_BANTIME"] != "5400" || p["FAIL2BAN_IGNOREIP"] != "127.0.0.1/8 ::1 10.0.0.0/8" {
		t.Errorf("params %v", p)
	}
}
