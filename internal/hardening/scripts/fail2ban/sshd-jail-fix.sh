	printf '%s\n' "$_jail" | g_write_file "$_f2b_jail" 0644 root:root || return 1
	if [ ! -f "$_f2b_local" ] || head -n 1 "$_f2b_local" | grep -q '^# golden-harden:'; then
		printf '%s\n' "$_local" | g_write_file "$_f2b_local" 0644 root:root
	fi
