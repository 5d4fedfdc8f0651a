	if [ ! -f "$_sshd_drop_in" ]; then
		printf '# golden-harden: sshd settings (CIS 5.1). sshd keeps the first value it reads: this file comes first.\n' |
			g_write_file "$_sshd_drop_in" 0600 root:root || return 1
	fi
	g_set_kv "$_sshd_drop_in" "$_key" "$_val" || return 1
