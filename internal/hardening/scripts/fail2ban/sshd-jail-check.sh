	_rc=0
	if g_file_is "$_f2b_jail" "$_jail"; then
		g_say "$_f2b_jail is as configured"
	else
		g_say "$_f2b_jail differs from the configuration"
		_rc=1
	fi
	if [ ! -f "$_f2b_local" ]; then
		g_say "$_f2b_local does not exist: the jail in force is not stated where scanners look"
		_rc=1
	elif head -n 1 "$_f2b_local" | grep -q '^# golden-harden:'; then
		if g_file_is "$_f2b_local" "$_local"; then
			g_say "$_f2b_local states the same jail"
		else
			g_say "$_f2b_local (written by golden-harden) differs from the configuration"
			_rc=1
		fi
	else
		g_say "$_f2b_local is the image's own; $_f2b_jail is read after it"
	fi
	if ! g_cmd fail2ban-client; then
		g_say "fail2ban-client is not installed"
		return 1
	fi
	# One client process for the four questions (each client start costs a Python start and a
	# configuration read), and none when no server runs (a client without a server waits for it
	# before it gives up).
	if ! g_unit_active fail2ban && [ ! -S /run/fail2ban/fail2ban.sock ]; then
		g_say "fail2ban is not running: the sshd jail is not running"
		return 1
	fi
	printf 'status sshd\nget sshd maxretry\nget sshd findtime\nget sshd bantime\nexit\n' | fail2ban-client -i 2>/dev/null |
		awk -v maxretry="$FAIL2BAN_MAXRETRY" -v findtime="$FAIL2BAN_FINDTIME" -v bantime="$FAIL2BAN_BANTIME" \
			-v journal="$G_WORK_DIR/fail2ban.journal" "$_f2b_jail_awk" || _rc=1
	return "$_rc"
