package hardening

import (
	"path/filepath"
	"testing"
)

func TestKernelModulesValidate(t *testing.T) {
	cases := []struct {
		name   string
		opts   KernelModulesOptions
		option string
		n      int
	}{
		{"defaults", KernelModulesOptions{}, "", 0},
		{"squashfs opt-in and an extra module", KernelModulesOptions{Disable: []string{"squashfs", "thunderbolt"}}, "", 0},
		{"allow a catalogue module in either spelling", KernelModulesOptions{Allow: []string{"udf", "usb_storage"}}, "", 0},
		{"bad module name", KernelModulesOptions{Disable: []string{"Bad Name"}}, "kernel_modules.disable", 1},
		{"allow outside the catalogue", KernelModulesOptions{Allow: []string{"ext4"}}, "kernel_modules.allow", 1},
		{"both allowed and disabled", KernelModulesOptions{Disable: []string{"udf"}, Allow: []string{"udf"}}, "kernel_modules.allow", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantOptionErrors(t, c.opts.validate(), c.option, c.n)
		})
	}
}

func TestKernelModulesShellParams(t *testing.T) {
	p := (&KernelModulesOptions{Disable: []string{"usb_storage", "squashfs"}, Allow: []string{"udf"}}).shellParams()
	if p["MODULES_DISABLE"] != "usb-storage squashfs" || p["MODULES_ALLOW"] != "udf" {
		t.Fatalf("params %v", p)
	}
	if p := (&KernelModulesOptions{}).shellParams(); p["MODULES_DISABLE"] != "" || p["MODULES_ALLOW"] != "" {
		t.Fatalf("defaults %v", p)
	}
}

// squashfs and overlayfs are only ever disabled on request: snaps and container runtimes need them.
func TestKernelModulesOptIn(t *testing.T) {
	for _, c := range moduleByName(t, "modules").Controls {
		optIn := c.ID == "modules.squashfs" || c.ID == "modules.overlayfs"
		gated := containsAll(c.Check, `case " $MODULES_DISABLE " in`, "return 2")
		if optIn != gated {
			t.Errorf("%s: opt-in %v, gated on kernel_modules.disable %v", c.ID, optIn, gated)
		}
	}
}

func TestKernelModuleAwk(t *testing.T) {
	dir := writeFiles(t, t.TempDir(), map[string]string{
		"ours.conf":    "# golden-harden\ninstall cramfs /bin/false\nblacklist cramfs\ninstall usb-storage /bin/false\nblacklist usb-storage\n",
		"seed.conf":    "  install usb_storage /bin/true\ninstall usb-storagex /bin/true\n",
		"modules":      "usb_storage 77824 0 - Live 0x0000000000000000\next4 1003520 1 - Live 0x0000000000000000\n",
		"no-mods":      "ext4 1003520 1 - Live 0x0000000000000000\n",
		"lacking.conf": "blacklist hfs\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	run := func(mods, conf, modules, container string, others ...string) awkRun {
		files := append([]string{"/dev/null", p(conf)}, others...)
		files = append(files, p(modules))
		return awkRun{vars: map[string]string{"mods": mods, "conf": p(conf), "modules": p(modules), "container": container}, files: files}
	}
	wantAwk(t, kernelModuleAwk, run("cramfs", "ours.conf", "no-mods", "0", p("seed.conf")), 0,
		[]string{"ours.conf: install cramfs /bin/false, blacklist cramfs"}, "other install")
	// Another install command, written with '_', and the module loaded.
	wantAwk(t, kernelModuleAwk, run("usb-storage", "ours.conf", "modules", "0", p("seed.conf")), 1,
		[]string{"ours.conf: install usb-storage /bin/false, blacklist usb-storage", "other install commands for usb-storage:",
			"seed.conf:1:  install usb_storage /bin/true", "usb-storage is loaded"}, "usb-storagex")
	// In a container the loaded module is the host's: compliant from the next boot on.
	wantAwk(t, kernelModuleAwk, run("usb-storage", "ours.conf", "modules", "1"), 3,
		[]string{"usb-storage is loaded in the host kernel (this is a container)"})
	wantAwk(t, kernelModuleAwk, run("hfs cramfs", "lacking.conf", "no-mods", "0"), 1,
		[]string{"lacking.conf: lacks install hfs /bin/false and blacklist hfs", "lacking.conf: lacks install cramfs"})
}
