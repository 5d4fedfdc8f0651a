	if ! g_cmd ufw; then
		g_say "ufw is not installed"
		return 1
	fi
