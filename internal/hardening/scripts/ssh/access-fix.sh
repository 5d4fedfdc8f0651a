	for _pair in "AllowUsers:$_au" "AllowGroups:$_ag" "DenyUsers:$_du" "DenyGroups:$_dg"; do
		_key=${_pair%%:*}
		_val=${_pair#*:}
		if [ -z "$_val" ]; then
			g_remove_lines "$_sshd_drop_in" "^[[:space:]]*${_key}[[:space:]]" || return 1
			continue
		fi
		if [ ! -f "$_sshd_drop_in" ]; then
			printf '# golden-harden: sshd settings (CIS 5.1). sshd keeps the first value it reads: this file comes first.\n' |
				g_write_file "$_sshd_drop_in" 0600 root:root || return 1
		fi
		g_set_kv "$_sshd_drop_in" "$_key" "$_val" || return 1
	done
	# The lists add up across files: every other global setting of them goes, in one pass per file.
	_keys="AllowUsers AllowGroups DenyUsers DenyGroups"
	_all=1
