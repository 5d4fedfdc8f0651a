	awk '$1 == "user" && $2 != "_chrony" { print FILENAME ":" FNR }' "$_chrony_conf" /etc/chrony/conf.d/*.conf 2>/dev/null |
		while IFS=: read -r _cf _cl; do
			g_backup "$_cf" || exit 1
			sed -i "${_cl}s/^/# golden-harden: /" "$_cf" || exit 1
		done || return 1
	if grep -Eq '^[[:space:]]*DAEMON_OPTS=.*-u[[:space:]]*[^_[:space:]"]' /etc/default/chrony 2>/dev/null; then
		echo "/etc/default/chrony passes -u with another user: remove it from DAEMON_OPTS" >&2
		return 1
	fi
