g_backup /etc/default/useradd || return 1
useradd -D -f "$LOGIN_INACTIVE_DAYS"
