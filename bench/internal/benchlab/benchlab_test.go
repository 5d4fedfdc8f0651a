package benchlab

import (
	"testing"

	"github.com/golden-ami/packer-plugin-golden/internal/report"
)

// A Debian 12 sshd's journal at LogLevel VERBOSE: two connections, three sessions.
const journal = `Server listening on 0.0.0.0 port 22.
Connection from 10.213.0.1 port 40000 on 10.213.0.2 port 22 rdomain ""
Accepted publickey for admin from 10.213.0.1 port 40000 ssh2: ED25519 SHA256:abc
pam_unix(sshd:session): session opened for user admin(uid=1000) by (uid=0)
Starting session: command for admin from 10.213.0.1 port 40000 id 0
Starting session: subsystem 'sftp' for admin from 10.213.0.1 port 40000 id 1
Accepted publickey for admin from 10.213.0.1 port 40002 ssh2: ED25519 SHA256:abc
Starting session: command for admin from 10.213.0.1 port 40002 id 0
Close session: user admin from 10.213.0.1 port 40002 id 0
Failed publickey for root from 10.213.0.1 port 40004 ssh2: ED25519 SHA256:def`

func TestCountSSH(t *testing.T) {
	if got := CountSSH(journal); got != (SSHCounts{Logins: 2, Sessions: 3}) {
		t.Errorf("CountSSH = %+v, want 2 logins, 3 sessions", got)
	}
	if got := CountSSH(""); got != (SSHCounts{}) {
		t.Errorf("CountSSH of nothing = %+v", got)
	}
}

func TestParseApt(t *testing.T) {
	if got := ParseApt("4 3\n"); got != (AptState{Transactions: 4, Lists: 3}) {
		t.Errorf("ParseApt = %+v", got)
	}
}

func TestModuleTimesAndSlowest(t *testing.T) {
	r := &report.Report{Timings: []report.Timing{{Name: "module ssh", DurationMS: 300}, {Name: "module fail2ban", DurationMS: 900},
		{Name: "finalize fail2ban", DurationMS: 700}}}
	m := ModuleTimes(r)
	if m["module fail2ban"] != 900 || m["finalize fail2ban"] != 700 || len(m) != 3 {
		t.Fatalf("ModuleTimes = %v", m)
	}
	other := map[string]int64{"module ssh": 100, "module fail2ban": 1100, "finalize fail2ban": 500}
	third := map[string]int64{"module ssh": 200, "module fail2ban": 1000, "finalize fail2ban": 600}
	if got, want := Slowest([]map[string]int64{m, other, third}, 2), "fail2ban 1000ms, finalize fail2ban 600ms"; got != want {
		t.Errorf("Slowest = %q, want %q", got, want)
	}
}
