	if [ -z "$FIREWALL_ALLOW" ]; then
		g_say "firewall.allow lists nothing beyond the SSH port"
		return 2
	fi
	_rules=$FIREWALL_ALLOW
