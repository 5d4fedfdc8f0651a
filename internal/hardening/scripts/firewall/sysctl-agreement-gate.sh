	if [ ! -f "$_sysctl_conf" ]; then
		g_say "$_sysctl_conf does not exist (sysctl module not applied): ufw keeps its own file"
		return 2
	fi
