package hardening

// The accounting module has no options. Process accounting is beyond CIS (Lynis' ACCT-9622): the
// kernel appends a record for every process that ends (command, user, times, exit status) to
// /var/log/account/pacct, which lastcomm and sa read, so that an investigation can tell which
// commands ran even where auditd's rules did not look. acct rotates the file daily and keeps 30
// days (/etc/default/acct). Level 2: it installs a package.
//
// Inside a container the kernel refuses accounting (accton needs CAP_SYS_PACCT of the host): an
// enabled acct.service is reported as in force at the next boot of a real machine, as auditd is.

func init() {
	register(Module{
		Name:        "accounting",
		Description: "Process accounting (acct): a record of every command that ran, kept 30 days.",
		Order:       95,
		Controls: []Control{
			{
				ID:    "accounting.process",
				Title: "Ensure process accounting is enabled (acct)",
				Level: 2,
				OS:    debianFamilies,
				Check: embedded("accounting/process-check.sh"),
				Fix:   embedded("accounting/process-fix.sh"),
			},
		},
	})
}
