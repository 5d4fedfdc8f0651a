package hardening

import (
	"path/filepath"
	"testing"
)

// services.resolved-responders: the configuration decides when it sets a protocol; left out, the
// running daemon's global Protocols line shows the compiled default (Debian 13's answers LLMNR,
// Ubuntu's answers neither); with neither, the check cannot tell and fails.
func TestResolvedRespondersAwk(t *testing.T) {
	prog := embedded("services/resolved-responders.awk")
	const stock = "# /etc/systemd/resolved.conf\n[Resolve]\n#LLMNR=yes\n#MulticastDNS=no\n"
	const debianLive = "Global\n           Protocols: +LLMNR +mDNS -DNSOverTLS DNSSEC=no/unsupported\n" +
		"    resolv.conf mode: stub\n\nLink 2 (ens5)\n    Current Scopes: DNS LLMNR/IPv4\n         Protocols: +DefaultRoute -LLMNR -mDNS\n"
	const ubuntuLive = "Global\n       Protocols: -LLMNR -mDNS -DNSOverTLS DNSSEC=no/unsupported\nresolv.conf mode: stub\n"
	const dropIn = stock + "\n# /etc/systemd/resolved.conf.d/60-golden-hardening.conf\n# golden-harden\n[Resolve]\nLLMNR=no\nMulticastDNS=no\n"
	cases := []struct {
		name, conf, live string
		code             int
		lines            []string
	}{
		{"debian's default", stock, debianLive, 1, []string{"LLMNR: answers queries from the network (the compiled default", "MulticastDNS: answers"}},
		{"ubuntu's default", stock, ubuntuLive, 0, []string{"LLMNR: off (the compiled default)", "MulticastDNS: off"}},
		{"the drop-in", dropIn, debianLive, 0, []string{"LLMNR=no", "MulticastDNS=no"}},
		{"the drop-in, resolved stopped", dropIn, "", 0, []string{"LLMNR=no", "MulticastDNS=no"}},
		{"resolve only", "[Resolve]\nLLMNR=resolve\nMulticastDNS=resolve\n", debianLive, 0, []string{"LLMNR=resolve", "MulticastDNS=resolve"}},
		{"the last setting wins", dropIn + "\n# /etc/systemd/resolved.conf.d/90-site.conf\n[Resolve]\nLLMNR=yes\n", ubuntuLive, 1,
			[]string{"LLMNR=yes: answers queries from the network", "MulticastDNS=no"}},
		{"another section", "[Other]\nLLMNR=no\n[Resolve]\nMulticastDNS=no\n", debianLive, 1, []string{"LLMNR: answers", "MulticastDNS=no"}},
		{"nothing says", stock, "", 1, []string{"LLMNR: not set in resolved.conf, and systemd-resolved does not say"}},
		{"no configuration", "", ubuntuLive, 0, []string{"LLMNR: off", "MulticastDNS: off"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, t.TempDir(), map[string]string{"conf": tc.conf, "status": tc.live})
			wantAwk(t, prog, awkRun{files: []string{filepath.Join(dir, "conf"), filepath.Join(dir, "status")}}, tc.code, tc.lines)
		})
	}
}
