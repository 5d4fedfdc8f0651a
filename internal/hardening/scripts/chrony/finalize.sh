	if ! _out=$(chronyd -p -f "$_chrony_conf" 2>&1 >/dev/null); then
		printf 'chronyd -p rejected the configuration:\n%s\n' "$_out"
		return 1
	fi
	if g_unit_enabled chrony; then
		systemctl restart chrony || return 1
		echo "chrony restarted"
	fi
