package hardening

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The two benchmark editions every control of this catalogue is checked against. CIS renumbers
// items between editions (auditd is 6.3 on Ubuntu 22.04 v2.0.0 and 6.2 on Debian 12 v1.1.0).
const (
	benchUbuntu2204        = "CIS Ubuntu Linux 22.04 LTS"
	benchUbuntu2204Version = "v2.0.0"
	benchDebian12          = "CIS Debian Linux 12"
	benchDebian12Version   = "v1.1.0"
)

// debianFamilies are the OS families of the controls written for apt-based systems.
var debianFamilies = []string{"debian", "ubuntu"}

// cisRefs returns the references of one recommendation in both benchmark editions; an empty id
// leaves that edition out (the item does not exist there).
func cisRefs(ubuntu, debian string) []Ref {
	var refs []Ref
	if ubuntu != "" {
		refs = append(refs, Ref{Benchmark: benchUbuntu2204, Version: benchUbuntu2204Version, ID: ubuntu})
	}
	if debian != "" {
		refs = append(refs, Ref{Benchmark: benchDebian12, Version: benchDebian12Version, ID: debian})
	}
	return refs
}

// optionErr formats a validation error that names the option, as `packer validate` shows it.
func optionErr(option, format string, args ...any) error {
	return fmt.Errorf("%s: %s", option, fmt.Sprintf(format, args...))
}

// KernelModulesOptions configures the `modules` controls (HCL block `kernel_modules { ... }`):
// kernel modules made unavailable with an `install <module> /bin/false` line and a `blacklist`
// line in /etc/modprobe.d/golden-hardening.conf, and unloaded when loaded (not inside a
// container, where the kernel belongs to the host).
//
// The catalogue covers cramfs, freevxfs, hfs, hfsplus, jffs2, usb-storage (CIS Level 1),
// firewire-core (beyond CIS, at Level 1), udf and the dccp, tipc, rds and sctp network protocols
// (Level 2). squashfs and overlayfs have controls
// too but are never disabled unless listed in `disable`.
type KernelModulesOptions struct {
	// More kernel modules to make unavailable, on top of the catalogue, e.g. `["thunderbolt"]`.
	// Listing `squashfs` disables it (CIS Level 2): do so only for images without snaps, since
	// snaps, among them the SSM agent on Ubuntu, are squashfs images. Listing `overlayfs` breaks
	// Docker and containerd. Default: none.
	Disable []string `mapstructure:"disable"`
	// Catalogue modules to leave available, e.g. `["udf"]` for an image that mounts ISO 9660/UDF
	// media, or `["usb-storage"]`. Their controls report skipped. Default: none.
	Allow []string `mapstructure:"allow"`
}

// kernelModule is one catalogue entry: a module CIS wants unavailable.
type kernelModule struct {
	name     string
	title    string
	level    int
	ubuntu   string // CIS Ubuntu 22.04 v2.0.0 item
	debian   string // CIS Debian 12 v1.1.0 item
	optInWhy string // non-empty: only disabled when listed in kernel_modules.disable, for this reason
}

var kernelModuleCatalogue = []kernelModule{
	{name: "cramfs", title: "cramfs", level: 1, ubuntu: "1.1.1.1", debian: "1.1.1.1"},
	{name: "freevxfs", title: "freevxfs", level: 1, ubuntu: "1.1.1.2", debian: "1.1.1.2"},
	{name: "hfs", title: "hfs", level: 1, ubuntu: "1.1.1.3", debian: "1.1.1.3"},
	{name: "hfsplus", title: "hfsplus", level: 1, ubuntu: "1.1.1.4", debian: "1.1.1.4"},
	{name: "jffs2", title: "jffs2", level: 1, ubuntu: "1.1.1.5", debian: "1.1.1.5"},
	{name: "overlayfs", title: "overlayfs", level: 2, debian: "1.1.1.6",
		optInWhy: "Docker and containerd store images on overlayfs"},
	{name: "squashfs", title: "squashfs", level: 2, ubuntu: "1.1.1.6", debian: "1.1.1.7",
		optInWhy: "snaps, among them the SSM agent on Ubuntu, are squashfs images"},
	{name: "udf", title: "udf", level: 2, ubuntu: "1.1.1.7", debian: "1.1.1.8"},
	{name: "usb-storage", title: "usb-storage", level: 1, ubuntu: "1.1.1.8", debian: "1.1.1.9"},
	// Beyond CIS: FireWire (IEEE 1394) gives a device DMA into memory and storage over SBP-2; no
	// EC2 instance has the bus. Lynis' STRG-1846 asks for it. firewire-core is what every FireWire
	// driver (firewire-ohci, firewire-sbp2, firewire-net) depends on.
	{name: "firewire-core", title: "firewire-core", level: 1},
	{name: "dccp", title: "dccp", level: 2, ubuntu: "3.2.1", debian: "3.2.1"},
	{name: "tipc", title: "tipc", level: 2, ubuntu: "3.2.2", debian: "3.2.2"},
	{name: "rds", title: "rds", level: 2, ubuntu: "3.2.3", debian: "3.2.3"},
	{name: "sctp", title: "sctp", level: 2, ubuntu: "3.2.4", debian: "3.2.4"},
}

const modprobeConfFile = "/etc/modprobe.d/golden-hardening.conf"

// Compiled on first use, as roleARNSyntax (internal/awsconf) is: counted repetitions are costly to compile.
var kernelModuleNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,55}$`) })

func kernelModuleKnown(name string) bool {
	for _, m := range kernelModuleCatalogue {
		if sameKernelModule(m.name, name) {
			return true
		}
	}
	return false
}

// sameKernelModule compares module names the way modprobe does: '-' and '_' are the same.
func sameKernelModule(a, b string) bool {
	return strings.ReplaceAll(a, "-", "_") == strings.ReplaceAll(b, "-", "_")
}

// shellParams spells catalogue modules as the catalogue does (usb-storage, not usb_storage), so
// the controls can match them as words.
func (o *KernelModulesOptions) shellParams() map[string]string {
	return map[string]string{
		"MODULES_DISABLE": strings.Join(catalogueSpelling(o.Disable), " "),
		"MODULES_ALLOW":   strings.Join(catalogueSpelling(o.Allow), " "),
	}
}

func catalogueSpelling(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		for _, m := range kernelModuleCatalogue {
			if sameKernelModule(m.name, n) {
				n = m.name
			}
		}
		out = append(out, n)
	}
	return out
}

func (o *KernelModulesOptions) validate() []error {
	var errs []error
	for _, m := range o.Disable {
		if !kernelModuleNamePattern().MatchString(m) {
			errs = append(errs, optionErr("kernel_modules.disable", "%q is not a kernel module name", m))
		}
		for _, a := range o.Allow {
			if sameKernelModule(a, m) {
				errs = append(errs, optionErr("kernel_modules.allow", "%q is also listed in kernel_modules.disable", a))
			}
		}
	}
	for _, a := range o.Allow {
		if !kernelModuleKnown(a) {
			var names []string
			for _, m := range kernelModuleCatalogue {
				names = append(names, m.name)
			}
			sort.Strings(names)
			errs = append(errs, optionErr("kernel_modules.allow", "%q is not a module of the catalogue (%s)", a, strings.Join(names, ", ")))
		}
	}
	return errs
}

// kernelModuleCheck is the shell check of one module. It is compliant when our file has both
// lines, no other configuration file gives the module another install command, `modprobe -n -v`
// resolves it to /bin/false, and it is not loaded. A module loaded inside a container belongs to
// the host kernel: configured, it is reported as in force at the next boot of a real machine.
// kernelModuleFiles is shell that sets the positional parameters to the modprobe configuration
// files kernelModuleAwk reads: ours first when it exists, the other ones, then /proc/modules.
var kernelModuleFiles = `	_conf=` + modprobeConfFile + "\n" + embedded("modules/files.sh") + "\n"

// kernelModuleAwk checks the modules in -v mods (space-separated) in one pass over our modprobe
// file (-v conf), the other modprobe files and the loaded modules (-v modules=/proc/modules): both of our lines present, no other
// install command for the module (written with '-' or '_': the kernel takes both), and not loaded (inside
// a container, -v container=1, a loaded module belongs to the host: in force at the next boot).
// It prints the evidence and exits 0, 1, or 3 (compliant once the host boots the image).
var kernelModuleAwk = embedded("modules/kernel-module.awk")

func kernelModuleCheck(names string) string {
	return `	_mods=` + names + `
` + kernelModuleFiles + `	awk -v mods="$_mods" -v conf="$_conf" -v modules=/proc/modules -v container="$G_IN_CONTAINER" '` + kernelModuleAwk + `' "$@"
` + embedded("modules/check-modprobe.sh")
}

// kernelModuleFix writes our lines for every module in one go, removes other install commands
// for them from /etc/modprobe.d (the seed's /bin/true among them would win or contradict ours)
// and unloads them outside containers.
func kernelModuleFix(names string) string {
	return `	_conf=` + modprobeConfFile + `
	_mods=` + names + "\n" + embedded("modules/fix.sh")
}

func init() {
	var controls []Control
	for _, m := range kernelModuleCatalogue {
		gate := "\t_mod=" + m.name + "\n" + embedded("modules/allow-gate.sh") + "\n"
		if m.optInWhy != "" {
			gate = "\t_mod=" + m.name + "\n\t_why=" + shellQuote(m.optInWhy) + "\n" + embedded("modules/opt-in-gate.sh") + "\n"
		}
		kind := "filesystem"
		if strings.HasPrefix(m.ubuntu, "3.") {
			kind = "network protocol"
		} else if m.name == "usb-storage" {
			kind = "storage driver"
		} else if m.name == "firewire-core" {
			kind = "FireWire bus driver"
		}
		controls = append(controls, Control{
			ID:    "modules." + m.name,
			Title: fmt.Sprintf("Ensure the %s %s kernel module is not available", m.title, kind),
			Refs:  cisRefs(m.ubuntu, m.debian),
			Level: m.level,
			OS:    debianFamilies,
			Check: gate + kernelModuleCheck(m.name),
			Fix:   kernelModuleFix(m.name),
		})
	}
	controls = append(controls, Control{
		ID:    "modules.additional",
		Title: "Ensure the kernel modules listed in kernel_modules.disable are not available",
		Level: 1,
		OS:    debianFamilies,
		Check: embedded("modules/additional-gate.sh") + "\n" + kernelModuleCheck("$MODULES_DISABLE"),
		Fix:   kernelModuleFix("$MODULES_DISABLE"),
	})
	register(Module{
		Name:        "modules",
		Description: "Kernel modules that the image never needs are made unavailable (install /bin/false + blacklist) and unloaded.",
		Order:       30,
		Controls:    controls,
	})
}
