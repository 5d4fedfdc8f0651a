_cur=$(awk '$1 == "UMASK" { v = $2 } END { print v }' /etc/login.defs)
if [ -z "$_cur" ] || [ $((0$_cur & 0$LOGIN_UMASK)) -ne $((0$LOGIN_UMASK)) ]; then
	g_set_kv /etc/login.defs UMASK "$LOGIN_UMASK" || return 1
fi
printf 'umask %s\n' "$LOGIN_UMASK" | g_write_file /etc/profile.d/golden-umask.sh 0644 root:root
