	g_say "no automatic fix: allow the port in firewall.allow or stop the service that listens"
	return 1
