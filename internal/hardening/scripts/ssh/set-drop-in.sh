	# Staged (g_stage): the module's Finalize installs the drop-in once, after the last setting.
	g_stage "$_sshd_drop_in"
	if [ -f "$_g_sf" ]; then
		g_kv_edit "$_g_sf" "$_g_sn" "$_key" "$_val" " " || return 1
		g_stage_done "$_sshd_drop_in" || return 1
	else
		printf '# golden-harden: sshd settings (CIS 5.1). sshd keeps the first value it reads: this file comes first.\n%s %s\n' \
			"$_key" "$_val" >"$_g_sn"
		g_stage_done "$_sshd_drop_in" 0600 root:root || return 1
	fi
