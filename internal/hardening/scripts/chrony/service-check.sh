	_rc=0
	if g_unit_enabled chrony; then
		g_say "chrony.service is enabled"
	else
		g_say "chrony.service is not enabled"
		_rc=1
	fi
	if g_unit_active chrony; then
		g_say "chrony.service is active"
		return "$_rc"
	fi
	if [ "$_rc" -eq 0 ] && { [ "$G_IN_CONTAINER" = 1 ] || [ "$(systemctl show -p ConditionResult --value chrony 2>/dev/null)" = no ]; }; then
		g_say "chrony.service cannot run here (no CAP_SYS_TIME in a container): it starts at the next boot of a real machine"
		return 3
	fi
	g_say "chrony.service is not active"
	return 1
