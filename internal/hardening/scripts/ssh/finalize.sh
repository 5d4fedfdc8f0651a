	if ! _out=$(sshd -t -f "$_sshd_config" 2>&1); then
		printf 'sshd -t rejected the new configuration:\n%s\n' "$_out"
		return 1
	fi
	_unit=ssh
	[ "$G_OS_FAMILY" = rhel ] && _unit=sshd
	if g_unit_active "$_unit"; then
		systemctl reload "$_unit" || return 1
		echo "sshd reloaded ($_unit.service): existing sessions are kept"
	elif [ -s /run/sshd.pid ]; then
		kill -HUP "$(cat /run/sshd.pid)" || return 1
		echo "sshd reloaded (SIGHUP)"
	else
		echo "sshd is not running: the configuration applies when it starts"
	fi
