package hardening

import "testing"

func TestKernelModulesValidate(t *testing.T) {
	cases := []struct {
		name   string
		opts   KernelModulesOptions
		option string
		n      int
	}{
		{"defaults", KernelModulesOptions{}, "", 0},
		{"squashfs opt-in and an extra module", KernelModulesOptions{Disable: []string{"squashfs", "firewire_core"}}, "", 0},
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
