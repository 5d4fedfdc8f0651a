	_before=1
	for _o in "$_sshd_config" "$_sshd_drop_in_dir"/*.conf; do
		if [ "$_o" = "$_sshd_drop_in" ]; then
			_before=0
			continue
		fi
		[ -f "$_o" ] || continue
		if [ "$_all" != 1 ]; then
			[ "$_o" = "$_sshd_config" ] && continue
			[ "$_before" = 1 ] || continue
		fi
		_new=$G_WORK_DIR/sshd-neutral.tmp
		_keys=$_keys awk "$_ssh_neutralize_awk" "$_o" >"$_new" || return 1
		g_set_content "$_o" "$_new" || return 1
	done
