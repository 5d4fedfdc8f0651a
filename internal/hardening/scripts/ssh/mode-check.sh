	# shellcheck disable=SC2086 # _files holds globs
	_stats=$(stat -c '%a %U %G %n' -- $_files 2>/dev/null)
	_rc=0
	_n=0
	while read -r _m _o _g _p; do
		[ -n "$_p" ] || continue
		_n=$((_n + 1))
		if [ $((0$_m & 0$_deny)) -ne 0 ] || [ "$_o" != root ] || { [ "$_g" != root ] && [ "$_g" != "$_group" ]; }; then
			g_say "$_p: mode $_m owner $_o:$_g"
			_rc=1
		fi
	done <<EOF
$_stats
EOF
	if [ "$_n" -eq 0 ]; then
		g_say "no such file: $_files"
		return 2
	fi
	[ "$_rc" -eq 0 ] && g_say "$_n files: mode and owner are right"
	return "$_rc"
