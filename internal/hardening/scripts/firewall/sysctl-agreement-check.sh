	g_say "IPT_SYSCTL=${_ufwf:-(unset)}"
	[ "$_ufwf" = "$_sysctl_conf" ]
