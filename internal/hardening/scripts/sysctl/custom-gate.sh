	if [ -z "$SYSCTL_CUSTOM" ]; then
		g_say "sysctl.overrides adds no parameter beyond the catalogue"
		return 2
	fi
