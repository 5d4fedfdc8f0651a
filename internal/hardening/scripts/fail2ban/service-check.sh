	_rc=0
	if g_unit_enabled fail2ban; then
		g_say "fail2ban.service is enabled"
	else
		g_say "fail2ban.service is not enabled"
		_rc=1
	fi
	if g_unit_active fail2ban; then
		g_say "fail2ban.service is active"
	else
		g_say "fail2ban.service is not active"
		_rc=1
	fi
	return "$_rc"
