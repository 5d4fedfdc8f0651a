	g_pkg_install chrony || return 1
	# shellcheck disable=SC2086 # _chrony_others is a list of package names
	g_pkg_purge $_chrony_others || return 1
	if g_unit_exists systemd-timesyncd.service; then
		g_unit_mask systemd-timesyncd || return 1
	fi
