package hardening

// sshProtocolControl states in the main sshd_config the one protocol sshd speaks. OpenSSH has
// spoken only protocol 2 since 7.4 and ignores the Protocol keyword, so the line changes nothing
// in sshd; it makes what is in force visible where scanners look (the SCAP Security Guide's
// sshd_allow_only_protocol2 reads the main file and fails without it). CIS dropped the item with
// protocol 1. The module's Finalize validates the file with sshd -t as for every other setting.
func sshProtocolControl() Control {
	return Control{
		ID:    "ssh.protocol",
		Title: "Ensure sshd_config states Protocol 2, the only protocol sshd speaks",
		Level: 1,
		OS:    debianFamilies,
		Check: embeddedWith("ssh/protocol-check.sh", "_sshd_config", sshdConfig, "_ssh_main_awk", sshMainAwk),
		Fix: `	_key=Protocol
	_val=2
` + sshSetMain,
	}
}
