	g_unit_enable auditd || return 1
	g_unit_active auditd || systemctl start auditd || [ "$G_IN_CONTAINER" = 1 ]
