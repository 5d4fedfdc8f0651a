	g_write_file "$_f" 0644 root:root <"$_new" || return 1
	# One sysctl call for every running value that differs (the positional parameters are the
	# only list POSIX sh has: one "key=value" each, vectors included).
	set --
	while read -r _what _arg; do
		[ "$_what" = set ] && set -- "$@" "$_arg"
	done <"$_todo"
	if [ "$#" -gt 0 ]; then
		sysctl -q -w "$@" || return 1
		sysctl -q -w net.ipv4.route.flush=1 net.ipv6.route.flush=1 2>/dev/null
	fi
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
