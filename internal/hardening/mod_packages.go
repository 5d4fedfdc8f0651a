package hardening

import (
	"fmt"
	"regexp"
	"strings"
)

// PackagesOptions configures the `packages` module (HCL block `packages { ... }`): the everyday
// tools every image of the pipeline carries, and packages to remove. Packages are installed
// without their "recommended" extras, `apt-get update` runs at most once per run, and nothing is
// downloaded when everything is already there.
type PackagesOptions struct {
	// Packages to install. Default: the essential tools of the original golden-image playbook that
	// fit any Debian or Ubuntu server: `ca-certificates`, `curl`, `wget`, `git`, `vim`, `htop`,
	// `tree`, `unzip`, `jq`, `gnupg`, `lsb-release`, `python3-venv`, `rsyslog`. Left out on purpose:
	// `python3-pip` (it pulls a compiler toolchain into the image), `awscli` and the Docker
	// repository (cloud- and distribution-specific: add them here when you want them), and
	// `ufw`, `fail2ban`, `chrony` (their own modules install them). Set `install = []` to install
	// nothing.
	Install []string `mapstructure:"install"`
	// Packages to purge when installed. Default: none.
	Remove []string `mapstructure:"remove"`
	// Install unattended-upgrades and turn on the daily package list refresh and security upgrades
	// (/etc/apt/apt.conf.d/20auto-upgrades). Default false: images are usually rebuilt instead.
	UnattendedUpgrades bool `mapstructure:"unattended_upgrades"`
}

var packagesDefaultInstall = []string{
	"ca-certificates", "curl", "wget", "git", "vim", "htop", "tree", "unzip", "jq", "gnupg",
	"lsb-release", "python3-venv", "rsyslog",
}

// debPackagePattern is Debian policy's package name, optionally with an architecture qualifier.
var debPackagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$`)

func (o *PackagesOptions) shellParams() map[string]string {
	install := o.Install
	if install == nil {
		install = packagesDefaultInstall
	}
	unattended := "0"
	if o.UnattendedUpgrades {
		unattended = "1"
	}
	return map[string]string{
		"PACKAGES_INSTALL":             strings.Join(install, " "),
		"PACKAGES_REMOVE":              strings.Join(o.Remove, " "),
		"PACKAGES_UNATTENDED_UPGRADES": unattended,
	}
}

func (o *PackagesOptions) validate() []error {
	var errs []error
	installed := map[string]bool{}
	for _, p := range o.Install {
		installed[p] = true
		if !debPackagePattern.MatchString(p) {
			errs = append(errs, fmt.Errorf("packages.install: %q is not a valid package name", p))
		}
	}
	for _, p := range o.Remove {
		switch {
		case !debPackagePattern.MatchString(p):
			errs = append(errs, fmt.Errorf("packages.remove: %q is not a valid package name", p))
		case installed[p]:
			errs = append(errs, fmt.Errorf("packages.remove: %q is also in packages.install", p))
		case p == "sudo" || p == "openssh-server":
			errs = append(errs, fmt.Errorf("packages.remove: %q would lock the build out", p))
		}
	}
	return errs
}

// packageControl ensures that packages (a space-separated list) are installed.
func packageControl(id, title, cisID, packages string) Control {
	return Control{ID: id, Title: title, Refs: cisRefsSame(cisID), Level: 1, OS: debianFamilies,
		Check: packagesInstalledCheck(packages),
		Fix:   `g_pkg_install ` + packages}
}

// autoUpgrades prints the 20auto-upgrades content unattended-upgrades documents for turning it on.
var autoUpgrades = embedded("packages/auto-upgrades.sh")

// debsumsControl: beyond CIS (Lynis' PKGS-7370). debsums compares the installed packages' files
// with the checksums their packages shipped; its cron job reports every changed file to syslog
// (tag debsums). Installed, it checks nothing until CRON_CHECK in /etc/default/debsums names a
// period: the fix sets weekly, and a check already scheduled more often is kept. Level 2: it
// installs a package.
var debsumsControl = Control{
	ID: "packages.debsums", Title: "Ensure the installed packages' files are verified against their checksums periodically (debsums)",
	Level: 2, OS: debianFamilies,
	Check: embedded("packages/debsums-check.sh"),
	Fix:   embedded("packages/debsums-fix.sh"),
}

func init() {
	register(Module{
		Name:        "packages",
		Description: "The essential tools every image carries, packages to remove, optional unattended upgrades, the installed files checked against their packages (debsums).",
		Order:       10,
		Controls: []Control{
			{
				ID: "packages.install", Title: "Ensure the essential packages are installed", Level: 1, OS: debianFamilies,
				Check: embedded("packages/install-check.sh"),
				Fix:   embedded("packages/install-fix.sh"),
			},
			{
				ID: "packages.remove", Title: "Ensure the unwanted packages are not installed", Level: 1, OS: debianFamilies,
				Check: embedded("packages/remove-check.sh"),
				Fix:   embedded("packages/remove-fix.sh"),
			},
			{
				ID: "packages.unattended-upgrades", Title: "Ensure unattended security upgrades are enabled", Level: 1, OS: debianFamilies,
				Check: "_want=$(" + autoUpgrades + ")\n" + embedded("packages/unattended-upgrades-check.sh"),
				Fix: `g_pkg_install unattended-upgrades || return 1
` + autoUpgrades + ` | g_write_file /etc/apt/apt.conf.d/20auto-upgrades 0644 root:root`,
			},
			debsumsControl,
		},
	})
}
