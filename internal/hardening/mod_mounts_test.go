package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fstab awk: "get" reads the first active line of the mount point; "set" adds the missing
// options to it, keeping its source and type, or appends the line when there is none.
func TestFstabAwk(t *testing.T) {
	const line = "tmpfs /tmp tmpfs mode=1777,nodev,nosuid,noexec 0 0"
	cases := []struct {
		name, fstab, get, set string
	}{
		{"unconfigured", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n", "",
			"# UNCONFIGURED FSTAB FOR BASE SYSTEM\n" + line + "\n"},
		{"a partition of the image's own", "UUID=1 / ext4 defaults 0 1\n#/dev/vdb /tmp ext4 ro 0 2\n/dev/vdb\t/tmp\text4\tdefaults,nodev 0 2\n",
			"ext4 defaults,nodev", "UUID=1 / ext4 defaults 0 1\n#/dev/vdb /tmp ext4 ro 0 2\n/dev/vdb /tmp ext4 defaults,nodev,nosuid,noexec 0 2\n"},
		{"already so", line + "\n", "tmpfs mode=1777,nodev,nosuid,noexec", line + "\n"},
		{"another mount point", "tmpfs /var/tmp tmpfs defaults 0 0\n", "", "tmpfs /var/tmp tmpfs defaults 0 0\n" + line + "\n"},
	}
	for _, c := range cases {
		for _, awk := range awkImplementations(t) {
			env := map[string]string{"_op": "get", "_mp": "/tmp", "_opts": mountOptions, "_line": line}
			get, code := awkRun{env: env, stdin: c.fstab}.run(t, awk, embedded("mounts/fstab.awk"))
			if code != 0 || strings.TrimSuffix(get, "\n") != c.get {
				t.Errorf("%s, %s: get: exit %d, %q, want %q", c.name, awk, code, get, c.get)
			}
			env["_op"] = "set"
			set, code := awkRun{env: env, stdin: c.fstab}.run(t, awk, embedded("mounts/fstab.awk"))
			if code != 0 || set != c.set {
				t.Errorf("%s, %s: set: exit %d, %q, want %q", c.name, awk, code, set, c.set)
			}
		}
	}
}

// mounts.dev-shm's check, fix and re-check on a machine whose mounts and systemd are stubs: the
// fix states the line in /etc/fstab and remounts /dev/shm, which passes at once; where a
// container refuses the remount the line is in force at the next boot of a real machine, and a
// real machine that refuses it fails the fix.
func TestMountsCheckFixRecheck(t *testing.T) {
	ctl := controlByID(t, "mounts", "mounts.dev-shm")
	const before = "tmpfs rw,nosuid,nodev,size=65536k,mode=1777"
	cases := []struct {
		name      string
		remount   string // what findmnt prints after the remount; empty: mount refuses it
		container bool
		fixCode   int
		code      int // of the re-check
		says      string
	}{
		{"remounted", "tmpfs rw,nosuid,nodev,noexec,size=65536k,mode=1777", false, 0, 0, "/dev/shm mounted now: tmpfs rw,nosuid,nodev,noexec"},
		{"container", "", true, 0, 3, "the container manager mounts /dev/shm"},
		{"refused", "", false, 1, 1, "/dev/shm mounted now: " + before},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			live := filepath.Join(dir, "live")
			writeFile(t, live, before, 0o644)
			mounts := filepath.Join(dir, "mounts")
			bin := snippetBin(t, []string{"awk", "cat", "tail"}, map[string]string{
				"findmnt":        "[ -s " + live + " ] || exit 1\ncat " + live + "\n",
				"mount":          "echo \"$*\" >>" + mounts + "\n[ -n '" + tc.remount + "' ] || exit 1\nprintf '%s' '" + tc.remount + "' >" + live + "\n",
				"systemctl":      "exit 1\n",
				"systemd-escape": "echo dev-shm.mount\n",
			})
			fstab := filepath.Join(dir, "fstab")
			writeFile(t, fstab, "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n", 0o644)
			inContainer := "0"
			if tc.container {
				inContainer = "1"
			}
			prelude := "g_say() { printf '%s\\n' \"$*\"; }\ng_unit_masked() { return 1; }\n" +
				"g_write_file() { cat >\"$1\"; }\nG_WORK_DIR=" + dir + " G_IN_CONTAINER=" + inContainer
			run := func(body string) (string, int) {
				return snippetRun(t, bin, prelude, strings.ReplaceAll(body, "/etc/fstab", fstab))
			}
			if out, code := run(ctl.Check); code != 1 {
				t.Fatalf("check before the fix: exit %d, want 1\n%s", code, out)
			}
			if out, code := run(ctl.Fix); code != tc.fixCode {
				t.Fatalf("fix: exit %d, want %d\n%s", code, tc.fixCode, out)
			}
			out, code := run(ctl.Check)
			if code != tc.code || !strings.Contains(out, tc.says) {
				t.Fatalf("re-check: exit %d, want %d and a line with %q\n%s", code, tc.code, tc.says, out)
			}
			got, err := os.ReadFile(fstab)
			if err != nil {
				t.Fatal(err)
			}
			if want := "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n" + mountPoints[0].line + "\n"; string(got) != want {
				t.Errorf("fstab:\n%s\nwant:\n%s", got, want)
			}
			if remounted, _ := os.ReadFile(mounts); string(remounted) != "-o remount,"+mountOptions+" /dev/shm\n" {
				t.Errorf("mount was called with %q", remounted)
			}
		})
	}
}
