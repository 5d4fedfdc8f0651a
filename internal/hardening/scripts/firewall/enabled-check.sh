	_fw_read 2>&1 || return 1
	cat -- "$_fw_status"
	_rc=0
	read -r _first <"$_fw_status"
	[ "$_first" = "Status: active" ] || _rc=1
	if g_unit_enabled ufw; then
		g_say "ufw.service is enabled"
	else
		g_say "ufw.service is not enabled"
		_rc=1
	fi
	return "$_rc"
