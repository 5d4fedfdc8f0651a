	g_unit_enable chrony || return 1
	g_unit_active chrony || systemctl start chrony || [ "$G_IN_CONTAINER" = 1 ]
