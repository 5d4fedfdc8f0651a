	if [ "$FIREWALL_ENABLED" != 1 ]; then
		g_say "firewall.enabled = false: the firewall is left alone"
		return 2
	fi
