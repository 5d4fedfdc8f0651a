	_rc=0
	_users=$(awk '$1 == "user" { print FILENAME ":" FNR ": " $0 }' "$_chrony_conf" /etc/chrony/conf.d/*.conf 2>/dev/null | grep -v ': user _chrony$')
	if [ -n "$_users" ]; then
		g_say "chrony is told to run as another user:" "$_users"
		_rc=1
	fi
	if grep -Eq '^[[:space:]]*DAEMON_OPTS=.*-u[[:space:]]*[^_[:space:]"]' /etc/default/chrony 2>/dev/null; then
		g_say "/etc/default/chrony: $(grep DAEMON_OPTS /etc/default/chrony)"
		_rc=1
	fi
	_ps=$(ps -C chronyd -o user= 2>/dev/null | sort -u | tr '\n' ' ')
	if [ -n "$_ps" ]; then
		g_say "chronyd runs as: $_ps"
		[ "$_ps" = "_chrony " ] || _rc=1
	else
		g_say "chronyd is not running; configured user: _chrony (the packaged default)"
	fi
	return "$_rc"
