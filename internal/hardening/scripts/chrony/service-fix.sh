	g_unit_enabled chrony || systemctl enable -q chrony || return 1
	g_unit_active chrony || systemctl start chrony || [ "$G_IN_CONTAINER" = 1 ]
