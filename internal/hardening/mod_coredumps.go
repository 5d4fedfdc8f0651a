package hardening

// The coredumps module has no options: CIS 1.5.3 leaves nothing to choose. Its third part,
// fs.suid_dumpable = 0, is the control sysctl.suid-dumpable (one file for all kernel parameters).

const (
	coreLimitsFile   = "/etc/security/limits.d/60-golden-hardening.conf"
	coredumpDropIn   = "/etc/systemd/coredump.conf.d/60-golden-hardening.conf"
	coreLimitsHeader = "# golden-harden: no core dumps for anyone (CIS 1.5.3)"
)

// coreLimitConflictAwk prints the active hard core limits for every user (`*`) that are not 0.
const coreLimitConflictAwk = `$1 == "*" && $2 == "hard" && $3 == "core" && $4 != "0" { print FILENAME ":" FNR ": " $0 }`

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
				Check: `	_f=` + coreLimitsFile + `
	_rc=0
	if grep -Eq '^[*][[:space:]]+hard[[:space:]]+core[[:space:]]+0[[:space:]]*$' "$_f" 2>/dev/null; then
		g_say "$_f: * hard core 0"
	else
		g_say "$_f: no '* hard core 0' line"
		_rc=1
	fi
	_other=$(awk '` + coreLimitConflictAwk + `' /etc/security/limits.conf /etc/security/limits.d/*.conf 2>/dev/null)
	if [ -n "$_other" ]; then
		g_say "other hard core limits for every user:" "$_other"
		_rc=1
	fi
	return "$_rc"`,
				Fix: `	_f=` + coreLimitsFile + `
	printf '%s\n*    hard    core    0\n' '` + coreLimitsHeader + `' | g_write_file "$_f" 0644 root:root || return 1
	awk '` + coreLimitConflictAwk + `' /etc/security/limits.conf /etc/security/limits.d/*.conf 2>/dev/null |
		while IFS=: read -r _cf _cl _rest; do
			g_backup "$_cf" || exit 1
			sed -i "${_cl}s/^/# golden-harden: /" "$_cf" || exit 1
		done`,
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
