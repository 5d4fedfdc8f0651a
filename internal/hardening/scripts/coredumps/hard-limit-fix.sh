	_f="$_core_limits"
	printf '%s\n*    hard    core    0\n' "$_core_header" | g_write_file "$_f" 0644 root:root || return 1
	awk "$_core_conflict_awk" /etc/security/limits.conf /etc/security/limits.d/*.conf 2>/dev/null |
		while IFS=: read -r _cf _cl _rest; do
			g_backup "$_cf" || exit 1
			sed -i "${_cl}s/^/# golden-harden: /" "$_cf" || exit 1
		done
