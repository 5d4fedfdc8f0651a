	_want='## golden-harden: audit rules immutable until reboot; loaded at boot by augenrules
-e 2'
	if ! g_file_is "$_f" "$_want"; then
		g_say "$_f does not hold -e 2"
		return 1
	fi
	_enabled=$(auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }')
	if [ "$_enabled" = 2 ]; then
		g_say "$_f: -e 2; the loaded rules are immutable"
		return 0
	fi
	g_say "$_f: -e 2; immutable from the next boot on (auditctl -s: enabled ${_enabled:-unknown})"
	return 3
