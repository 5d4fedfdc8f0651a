	if [ "$FIREWALL_DEFAULT_OUTGOING" != deny ]; then
		g_say "outgoing traffic is allowed by default (firewall.default_outgoing)"
		return 2
	fi
