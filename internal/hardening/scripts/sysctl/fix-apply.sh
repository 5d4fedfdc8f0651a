	g_stage_done "$_f" 0644 root:root || return 1
	# The running values that differ are set by the module's Finalize, for every control at once.
	while read -r _what _arg; do
		[ "$_what" = set ] && printf '%s\n' "$_arg" >>"$G_WORK_DIR/sysctl.live"
	done <"$_todo"
	while read -r _what _arg; do
		[ "$_what" = conflict ] || continue
		_cf=${_arg%%:*}
		_rest=${_arg#*:}
		_cl=${_rest%%:*}
		_rest=${_rest#*:}
		if [ "$_cf" = "$_ufwf" ]; then
			# UFW applies IPT_SYSCTL on every enable and at boot: make it apply our file instead.
			g_set_kv /etc/default/ufw IPT_SYSCTL "$_f" "=" || return 1
		else
			case $_cf in
			/etc/*)
				g_backup "$_cf" || return 1
				sed -i "${_cl}s/^/# golden-harden: /" "$_cf" || return 1
				;;
			*)
				# A vendor file read after ours (procps' 99-protect-links.conf sets
				# fs.protected_fifos = 1): systemd-sysctl reads a file of /etc/sysctl.d instead
				# of the one of the same name below /usr, so a copy there, the contradicting
				# line commented out, masks it and keeps the vendor's other settings.
				_mask=/etc/sysctl.d/${_cf##*/}
				_src=$_cf
				[ -f "$_mask" ] && _src=$_mask
				sed "${_cl}s/^/# golden-harden: /" "$_src" >"$G_WORK_DIR/sysctl.mask" || return 1
				g_write_file "$_mask" 0644 root:root <"$G_WORK_DIR/sysctl.mask" || return 1
				;;
			esac
		fi
	done <"$_todo"
