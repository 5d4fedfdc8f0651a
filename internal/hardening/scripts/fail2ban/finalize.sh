	g_unit_enabled fail2ban || systemctl enable -q fail2ban || return 1
	if [ -f "$G_WORK_DIR/fail2ban.journal" ] && g_unit_active fail2ban; then
		if ! _out=$(fail2ban-client reload 2>&1); then
			printf 'fail2ban-client reload refused the configuration:\n%s\n' "$_out"
			return 1
		fi
		# The server answers a reload once it has (re)started the jails.
		echo "fail2ban reloaded"
		return 0
	fi
	systemctl restart fail2ban || return 1
	echo "fail2ban restarted"
	# A start returns before the server has read its configuration: wait for the jail, giving
	# up early when the service stops (a server that refuses the configuration exits). Until the
	# server has its socket (where Debian and Ubuntu put it) the wait costs no client process:
	# each one is a Python start the starting server would compete with. The client asks in its
	# command mode: asked in its interactive mode while the server started, one restart in ten on
	# Ubuntu 22.04 (fail2ban 0.11) waited 30 to 90 s for the answers.
	_i=0
	_asked=0
	while [ "$_i" -lt 300 ] && [ "$_asked" -lt 20 ]; do
		if [ "$_i" -ge 40 ] || [ -S /run/fail2ban/fail2ban.sock ]; then
			_asked=$((_asked + 1))
			fail2ban-client status sshd >/dev/null 2>&1 && { echo "fail2ban: jail sshd running"; return 0; }
			g_unit_active fail2ban || break
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "the sshd jail did not start"
	journalctl -u fail2ban -n 20 --no-pager 2>/dev/null
	return 1
