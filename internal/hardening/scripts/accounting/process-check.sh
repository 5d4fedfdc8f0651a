if ! g_pkg_installed acct; then
	g_say "acct is not installed"
	return 1
fi
if ! g_unit_enabled acct; then
	g_say "acct.service is not enabled"
	return 1
fi
if g_unit_active acct; then
	g_say "acct.service is enabled and active: processes are accounted in /var/log/account/pacct"
	return 0
fi
if [ "$G_IN_CONTAINER" = 1 ]; then
	g_say "acct.service is enabled; the kernel refuses process accounting in a container: it starts at the next boot of a real machine"
	return 3
fi
g_say "acct.service is enabled but not active"
return 1
