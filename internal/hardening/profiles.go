package hardening

// The baseline profile is the hand-written playbook's scope (its essential packages, UTC, chrony on
// the Amazon Time Sync Service, SSH basics, UFW with SSH allowed, fail2ban, auditd with its own
// rules, the kernel module blacklist, core dump limits, ASLR and the network sysctls, login.defs,
// build info), applied without that playbook's defects: squashfs stays loadable, core dumps are
// limited in sysctl and systemd-coredump too, auditd is installed before it is configured, and
// the SSH settings land in a drop-in that wins. The engine defines it here, as whole modules plus
// single controls, so control authors only write controls.

// baselineModules: every control of these modules, whatever its level.
var baselineModules = map[string]bool{
	"firewall": true,
	"fail2ban": true,
	"chrony":   true,
}

// baselineControls: single controls of the other modules.
var baselineControls = map[string]bool{
	"packages.install": true,
	"timezone.zone":    true,
	// firewall.open-ports fails while systemd-resolved answers LLMNR on every interface (Debian
	// 13's default).
	"services.resolved-responders": true,

	"modules.cramfs":   true,
	"modules.freevxfs": true,
	"modules.jffs2":    true,
	"modules.hfs":      true,
	"modules.hfsplus":  true,
	"modules.udf":      true,

	"coredumps.hard-limit":       true,
	"coredumps.systemd-coredump": true,
	"sysctl.suid-dumpable":       true,
	"sysctl.aslr":                true,
	"sysctl.ip-forward":          true,
	"sysctl.send-redirects":      true,
	"sysctl.source-route":        true,
	"sysctl.icmp-redirects":      true,
	"sysctl.secure-redirects":    true,
	"sysctl.log-martians":        true,
	"sysctl.custom":              true,

	"ssh.drop-in-include":         true,
	"ssh.config-permissions":      true,
	"ssh.access":                  true,
	"ssh.permit-root-login":       true,
	"ssh.password-authentication": true,
	"ssh.pubkey-authentication":   true,
	"ssh.client-alive-interval":   true,
	"ssh.client-alive-count-max":  true,

	"auditd.installed":    true,
	"auditd.service":      true,
	"auditd.log-storage":  true,
	"auditd.log-rotation": true,
	"auditd.disk-full":    true,
	"auditd.space-left":   true,
	"auditd.rules-seed":   true,
	// The playbook's syscall rules (file deletion, kernel modules), as the CIS sets with their
	// 32-bit twins: its own were 64-bit only.
	"auditd.rules-delete":         true,
	"auditd.rules-kernel-modules": true,
	"auditd.immutable":            true,
	"auditd.rules-loaded":         true,

	"login.pass-max-days":  true,
	"login.pass-min-days":  true,
	"login.pass-warn-age":  true,
	"login.encrypt-method": true,

	"build_info.file": true,
}

// inProfile reports whether the profile includes the control.
func inProfile(p Profile, c Control) bool {
	switch p {
	case ProfileCISLevel1Server:
		return c.Level <= 1
	case ProfileCISLevel2Server:
		return c.Level <= 2
	case ProfileBaseline:
		return baselineModules[c.Module] || baselineControls[c.ID]
	}
	return false
}

// ProfilesOf lists the profiles that include the control, for docs and reports.
func ProfilesOf(c Control) []Profile {
	var out []Profile
	for _, p := range Profiles() {
		if inProfile(p, c) {
			out = append(out, p)
		}
	}
	return out
}
