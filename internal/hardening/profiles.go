package hardening

// The baseline profile is the hand-written playbook's scope (essential packages, UTC, ssh basics,
// ufw, fail2ban, chrony, auditd with its rules, network sysctls and ASLR, login.defs, the kernel
// module blacklist, build info), applied without that playbook's defects. It is defined here, by
// the engine, as whole modules plus single controls, so control authors only write controls.

// baselineModules: every Level 1 control of these modules is in the baseline.
var baselineModules = map[string]bool{
	"packages":   true,
	"timezone":   true,
	"modules":    true,
	"sysctl":     true,
	"coredumps":  true,
	"firewall":   true,
	"ssh":        true,
	"fail2ban":   true,
	"chrony":     true,
	"auditd":     true,
	"login":      true,
	"build_info": true,
}

// baselineControls: single controls of other modules that are in the baseline.
var baselineControls = map[string]bool{}

// inProfile reports whether the profile includes the control.
func inProfile(p Profile, c Control) bool {
	switch p {
	case ProfileCISLevel1Server:
		return c.Level <= 1
	case ProfileCISLevel2Server:
		return c.Level <= 2
	case ProfileBaseline:
		return (baselineModules[c.Module] && c.Level <= 1) || baselineControls[c.ID]
	}
	return false
}
