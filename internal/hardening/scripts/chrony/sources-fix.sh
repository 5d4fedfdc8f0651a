	printf '# golden-harden: time sources (CIS 2.3.3.1)\n%s\n' "$CHRONY_SOURCES" | g_write_file "$_chrony_sources" 0644 root:root || return 1
	if ! cat "$_chrony_conf" /etc/chrony/conf.d/*.conf 2>/dev/null | grep -Eq "^[[:space:]]*sourcedir[[:space:]]+$_chrony_source_dir/?[[:space:]]*\$"; then
		g_ensure_line "$_chrony_conf" "sourcedir $_chrony_source_dir" || return 1
	fi
	[ "$CHRONY_REPLACE_DEFAULT" = 1 ] || return 0
	awk "$_chrony_sources_awk" "$_chrony_conf" /etc/chrony/conf.d/*.conf 2>/dev/null |
		while IFS=: read -r _cf _cl _rest; do
			g_backup "$_cf" || exit 1
			sed -i "${_cl}s/^/# golden-harden: /" "$_cf" || exit 1
		done
