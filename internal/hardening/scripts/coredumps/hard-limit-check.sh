	_f="$_core_limits"
	_rc=0
	if grep -Eq '^[*][[:space:]]+hard[[:space:]]+core[[:space:]]+0[[:space:]]*$' "$_f" 2>/dev/null; then
		g_say "$_f: * hard core 0"
	else
		g_say "$_f: no '* hard core 0' line"
		_rc=1
	fi
	_other=$(awk "$_core_conflict_awk" /etc/security/limits.conf /etc/security/limits.d/*.conf 2>/dev/null)
	if [ -n "$_other" ]; then
		g_say "other hard core limits for every user:" "$_other"
		_rc=1
	fi
	return "$_rc"
