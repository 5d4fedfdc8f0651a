	g_unit_enable fail2ban || return 1
	if [ -f "$G_WORK_DIR/fail2ban.journal" ] && g_unit_active fail2ban; then
		if ! _out=$(fail2ban-client reload 2>&1); then
			printf 'fail2ban-client reload refused the configuration:\n%s\n' "$_out"
			return 1
		fi
		# The server answers a reload once it has (re)started the jails.
		echo "fail2ban reloaded"
		return 0
	fi
	if ! _out=$(fail2ban-client -t 2>&1); then
		printf 'fail2ban-client -t rejected the configuration:\n%s\n' "$_out"
		return 1
	fi
	systemctl restart fail2ban || return 1
	echo "fail2ban restarted"
	# A start returns before the server has read its configuration: wait for the jail, giving
	# up early when the service stops. Until the server has its socket (where Debian and Ubuntu
	# put it) the wait costs no client process: each one is a Python start the starting server
	# would compete with.
	_i=0
	while [ "$_i" -lt 300 ]; do
		if [ "$_i" -ge 40 ] || [ -S /run/fail2ban/fail2ban.sock ]; then
			fail2ban-client status sshd >/dev/null 2>&1 && { echo "fail2ban: jail sshd running"; return 0; }
			g_unit_active fail2ban || break
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "the sshd jail did not start"
	journalctl -u fail2ban -n 20 --no-pager 2>/dev/null
	return 1
