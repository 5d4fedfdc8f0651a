	if g_pkg_installed ufw; then
		g_say "ufw is installed"
		return 0
	fi
	g_say "ufw is not installed"
	return 1
