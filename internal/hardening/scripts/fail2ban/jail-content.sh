	_jail="# golden-harden: sshd jail. The journal backend works without rsyslog (Debian 12 has none).
[sshd]
enabled = true
backend = systemd
port = $G_SSH_PORT
maxretry = $FAIL2BAN_MAXRETRY
findtime = $FAIL2BAN_FINDTIME
bantime = $FAIL2BAN_BANTIME
ignoreip = $FAIL2BAN_IGNOREIP"
	_local="# golden-harden: the sshd jail in force; $_f2b_jail, read after this file, sets the same.
${_jail#*
}"
