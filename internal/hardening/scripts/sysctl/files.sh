	_files=""
	_seen=""
	for _c in /etc/sysctl.conf /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf "$_ufwf"; do
		[ -f "$_c" ] || continue
		# -ef (same file): dash, bash and busybox sh all have it; it spares a readlink per file.
		# shellcheck disable=SC3013
		[ "$_c" -ef "$_f" ] && continue
		_dup=0
		for _x in $_seen; do
			# shellcheck disable=SC3013
			[ "$_c" -ef "$_x" ] && _dup=1
		done
		[ "$_dup" -eq 0 ] || continue
		_seen="$_seen $_c"
		_kind=A
		case $_c in
		/etc/*) ;;
		*)
			# shellcheck disable=SC3013
			if [ -z "$_ufwf" ] || ! [ "$_c" -ef "$_ufwf" ]; then
				[ -e "/etc/sysctl.d/${_c##*/}" ] && continue
				_kind=L
			fi
			;;
		esac
		_files="$_files$_kind $_c
"
	done
