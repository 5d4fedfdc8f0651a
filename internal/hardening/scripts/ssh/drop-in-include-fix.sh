	_new=$G_WORK_DIR/sshd-include.tmp
	{
		printf 'Include %s\n' "$_ssh_drop_in_match"
		grep -Ev '^[[:space:]]*[Ii]nclude[[:space:]]+(/etc/ssh/)?sshd_config\.d/\*\.conf[[:space:]]*$' "$_sshd_config"
	} >"$_new"
	g_set_content "$_sshd_config" "$_new"
