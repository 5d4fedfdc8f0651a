g_pkg_install debsums || return 1
g_set_kv /etc/default/debsums CRON_CHECK weekly =
