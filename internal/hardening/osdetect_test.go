package hardening

import (
	"strings"
	"testing"
)

func TestParseOSRelease(t *testing.T) {
	cases := []struct {
		name, content string
		want          OSInfo
		supported     bool
	}{
		{"debian 12", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
			OSInfo{ID: "debian", VersionID: "12", Family: "debian", PrettyName: "Debian GNU/Linux 12 (bookworm)"}, true},
		// Supported is what the end-to-end suite runs on, nothing more: 20.04's PAM has no
		// pam_faillock, Debian 11 and Ubuntu 20.04 are past their vendors' standard support, and
		// the releases the lab does not boot yet are planned.
		{"ubuntu 24.04", "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n",
			OSInfo{ID: "ubuntu", VersionID: "24.04", Family: "debian"}, true},
		{"ubuntu 22.04", "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n",
			OSInfo{ID: "ubuntu", VersionID: "22.04", Family: "debian"}, true},
		{"ubuntu 26.04", "NAME=\"Ubuntu\"\nVERSION_ID=\"26.04\"\nID=ubuntu\nID_LIKE=debian\n",
			OSInfo{ID: "ubuntu", VersionID: "26.04", Family: "debian"}, true},
		{"ubuntu 20.04", "NAME=\"Ubuntu\"\nVERSION_ID=\"20.04\"\nID=ubuntu\nID_LIKE=debian\n",
			OSInfo{ID: "ubuntu", VersionID: "20.04", Family: "debian"}, false},
		{"amazon linux 2023", "NAME=\"Amazon Linux\"\nVERSION_ID=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\n",
			OSInfo{ID: "amzn", VersionID: "2023", Family: "rhel"}, false},
		{"rhel 9.4", "ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n", OSInfo{ID: "rhel", VersionID: "9.4", Family: "rhel"}, false},
		{"rocky through ID_LIKE", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n", OSInfo{ID: "rocky", VersionID: "9.3", Family: "rhel"}, false},
		{"debian 13", "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nVERSION_ID=\"13\"\n",
			OSInfo{ID: "debian", VersionID: "13", Family: "debian", PrettyName: "Debian GNU/Linux 13 (trixie)"}, true},
		{"comments and single quotes", "# c\nID='debian'\nVERSION_ID='11'\n", OSInfo{ID: "debian", VersionID: "11", Family: "debian"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOSRelease(tc.content)
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
			err = CheckSupported(got)
			if (err == nil) != tc.supported {
				t.Errorf("CheckSupported = %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), "supported: Debian 12/13, Ubuntu 22.04/24.04/26.04; planned: Amazon Linux 2023, RHEL 9") {
				t.Errorf("error does not list what is supported: %v", err)
			}
		})
	}
	if _, err := ParseOSRelease("NAME=x\n"); err == nil {
		t.Error("os-release without ID accepted")
	}
	for _, planned := range []OSInfo{{ID: "amzn", VersionID: "2023", Family: "rhel"}, {ID: "rhel", VersionID: "9", Family: "rhel"}} {
		if err := CheckSupported(planned); err == nil || !strings.Contains(err.Error(), "planned but not supported yet") {
			t.Errorf("%v: err = %v", planned, err)
		}
	}
	for _, gone := range []OSInfo{{ID: "ubuntu", VersionID: "20.04", Family: "debian"}, {ID: "debian", VersionID: "11", Family: "debian"}} {
		if err := CheckSupported(gone); err == nil || !strings.Contains(err.Error(), "is not supported") {
			t.Errorf("%v: err = %v", gone, err)
		}
	}
}
