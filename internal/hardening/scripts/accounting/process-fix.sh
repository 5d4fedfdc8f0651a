g_pkg_install acct || return 1
g_unit_enable acct || return 1
g_unit_active acct || systemctl start acct || [ "$G_IN_CONTAINER" = 1 ]
