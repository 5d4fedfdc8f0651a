_cur=$(awk '$1 == "UMASK" { v = $2 } END { print v }' /etc/login.defs)
_rc=0
if [ -n "$_cur" ] && [ $((0$_cur & 0$LOGIN_UMASK)) -eq $((0$LOGIN_UMASK)) ]; then
	g_say "/etc/login.defs: UMASK $_cur"
else
	g_say "/etc/login.defs: UMASK ${_cur:-unset} (wanted $LOGIN_UMASK or stricter)"
	_rc=1
fi
if g_file_is /etc/profile.d/golden-umask.sh "umask $LOGIN_UMASK"; then
	g_say "/etc/profile.d/golden-umask.sh: umask $LOGIN_UMASK"
else
	g_say "/etc/profile.d/golden-umask.sh is missing or differs"
	_rc=1
fi
return $_rc
