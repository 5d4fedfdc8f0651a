if [ "$PACKAGES_UNATTENDED_UPGRADES" != 1 ]; then g_say "not applicable: packages.unattended_upgrades is false"; return 2; fi
if ! g_pkg_installed unattended-upgrades; then g_say "unattended-upgrades is not installed"; return 1; fi
if g_file_is /etc/apt/apt.conf.d/20auto-upgrades "$_want"; then
	g_say "unattended-upgrades installed, /etc/apt/apt.conf.d/20auto-upgrades enables it"
	return 0
fi
g_say "/etc/apt/apt.conf.d/20auto-upgrades does not enable it"
return 1
