if { g_pkg_installed cron || g_pkg_installed cronie || g_pkg_installed systemd-cron; }; then g_say "a cron daemon is installed"; return 0; fi
g_say "no cron daemon (cron, cronie or systemd-cron) is installed"
return 1
