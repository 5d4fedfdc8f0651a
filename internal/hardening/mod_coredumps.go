package hardening

// The coredumps module has no options: CIS 1.5.3 leaves nothing to choose. Its third part,
// fs.suid_dumpable = 0, is the control sysctl.suid-dumpable (one file for all kernel parameters).

const (
	coreLimitsFile   = "/etc/security/limits.d/60-golden-hardening.conf"
	coredumpDropIn   = "/etc/systemd/coredump.conf.d/60-golden-hardening.conf"
	coreLimitsHeader = "# golden-harden: no core dumps for anyone (CIS 1.5.3)"
)

// coreLimitConflictAwk prints the active hard core limits for every user (`*`) that are not 0.
var coreLimitConflictAwk = embedded("coredumps/hard-limit-conflict.awk")

func init() {
	register(Module{
		Name:        "coredumps",
		Description: "Core dumps restricted: a hard core limit of 0 for every user and systemd-coredump storing nothing (fs.suid_dumpable is sysctl.suid-dumpable).",
		Order:       45,
		Controls: []Control{
			{
				ID:    "coredumps.hard-limit",
				Title: "Ensure core dumps are restricted by a hard limit of 0 for every user",
				Refs:  cisRefs("1.5.3", "1.5.3"),
				Level: 1,
				OS:    debianFamilies,
				Check: embeddedWith("coredumps/hard-limit-check.sh", "_core_limits", coreLimitsFile, "_core_conflict_awk", coreLimitConflictAwk),
				Fix:   embeddedWith("coredumps/hard-limit-fix.sh", "_core_limits", coreLimitsFile, "_core_conflict_awk", coreLimitConflictAwk, "_core_header", coreLimitsHeader),
			},
			{
				ID:    "coredumps.systemd-coredump",
				Title: "Ensure systemd-coredump stores no core dumps",
				Refs:  cisRefs("1.5.3", "1.5.3"),
				Level: 1,
				OS:    debianFamilies,
				Check: embedded("coredumps/systemd-coredump-check.sh"),
				Fix:   `	printf '[Coredump]\nStorage=none\nProcessSizeMax=0\n' | g_write_file ` + coredumpDropIn + ` 0644 root:root`,
			},
		},
	})
}
