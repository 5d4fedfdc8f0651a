_grp=root
if getent group "$_allow_group" >/dev/null; then _grp=$_allow_group; fi
printf '%s\n' "$CRON_ALLOW_USERS" | tr ' ' '\n' | g_write_file "$_allow_file" 0640 "root:$_grp" || return 1
if [ -e "$_deny_file" ]; then
	g_backup "$_deny_file" || return 1
	rm -f "$_deny_file"
fi
