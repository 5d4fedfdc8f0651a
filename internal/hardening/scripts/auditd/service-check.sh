	if ! g_unit_enabled auditd; then
		g_say "auditd.service is not enabled"
		return 1
	fi
	if g_unit_active auditd; then
		g_say "auditd.service is enabled and active"
		return 0
	fi
	if [ "$G_IN_CONTAINER" = 1 ]; then
		g_say "auditd.service is enabled; auditd cannot run in a container: it starts at the next boot of a real machine"
		return 3
	fi
	g_say "auditd.service is enabled but not active"
	return 1
