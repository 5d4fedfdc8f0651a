	# shellcheck disable=SC2086 # _pkg_list is a list of package names
	if g_pkg_installed $_pkg_list; then
		g_say "installed: $_pkg_list"
		return 0
	fi
	g_say "missing:$(for _p in $_pkg_list; do g_pkg_installed "$_p" || printf ' %s' "$_p"; done)"
	return 1
