	if [ ! -f "$_chrony_conf" ]; then
		g_say "$_chrony_conf does not exist"
		return 1
	fi
	_rc=0
	_want=$(printf '# golden-harden: time sources (CIS 2.3.3.1)\n%s' "$CHRONY_SOURCES")
	if g_file_is "$_chrony_sources" "$_want"; then
		g_say "$_chrony_sources:" "$CHRONY_SOURCES"
	else
		g_say "$_chrony_sources differs from chrony.servers/chrony.pools"
		_rc=1
	fi
	if ! cat "$_chrony_conf" /etc/chrony/conf.d/*.conf 2>/dev/null | grep -Eq "^[[:space:]]*sourcedir[[:space:]]+$_chrony_source_dir/?[[:space:]]*\$"; then
		g_say "chrony does not read $_chrony_source_dir (no sourcedir line)"
		_rc=1
	fi
	if [ "$CHRONY_REPLACE_DEFAULT" = 1 ]; then
		_other=$(awk "$_chrony_sources_awk" "$_chrony_conf" /etc/chrony/conf.d/*.conf 2>/dev/null)
		if [ -n "$_other" ]; then
			g_say "other sources (chrony.replace_default_sources):" "$_other"
			_rc=1
		fi
	fi
	if [ "$_rc" -eq 0 ] && g_unit_active chrony && g_cmd chronyc; then
		g_say "chronyc sources:" "$(chronyc -n sources 2>&1 | tail -n +3)"
	fi
	return "$_rc"
