	# shellcheck disable=SC2086 # _files holds globs
	_stats=$(stat -c '%a %U %G %n' -- $_files 2>/dev/null)
	while read -r _m _o _g _p; do
		[ -n "$_p" ] || continue
		if [ $((0$_m & 0$_deny)) -ne 0 ] || [ "$_o" != root ] || { [ "$_g" != root ] && [ "$_g" != "$_group" ]; }; then
			g_set_mode "$_p" "$_mode" root:root || return 1
		fi
	done <<EOF
$_stats
EOF
