package hardening

import "testing"

// fs.suid_dumpable is one control, in the sysctl module: coredumps must not duplicate it.
func TestCoredumpsDoNotDuplicateSuidDumpable(t *testing.T) {
	for _, c := range moduleByName(t, "coredumps").Controls {
		if containsAll(c.Fix, "suid_dumpable") {
			t.Errorf("%s sets fs.suid_dumpable; sysctl.suid-dumpable owns it", c.ID)
		}
	}
	found := false
	for _, c := range moduleByName(t, "sysctl").Controls {
		found = found || c.ID == "sysctl.suid-dumpable"
	}
	if !found {
		t.Fatal("sysctl.suid-dumpable is missing")
	}
}
