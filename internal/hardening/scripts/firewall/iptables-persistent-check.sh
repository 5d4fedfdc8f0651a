	if g_pkg_installed iptables-persistent; then
		g_say "iptables-persistent is installed: it restores its own rules over ufw's at boot"
		return 1
	fi
	g_say "iptables-persistent is not installed"
