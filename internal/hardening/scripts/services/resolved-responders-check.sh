	if ! g_unit_exists systemd-resolved.service; then g_say "not applicable: systemd-resolved is not installed"; return 2; fi
	_r=$G_WORK_DIR/resolved
	systemd-analyze cat-config systemd/resolved.conf >"$_r.conf" 2>/dev/null ||
		cat /etc/systemd/resolved.conf /etc/systemd/resolved.conf.d/*.conf >"$_r.conf" 2>/dev/null
	: >"$_r.status"
	if g_unit_active systemd-resolved.service; then resolvectl status --no-pager >"$_r.status" 2>/dev/null; fi
	awk "$_resolved_awk" "$_r.conf" "$_r.status"
