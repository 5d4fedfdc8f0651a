if ! getent group "$SUDO_SU_GROUP" >/dev/null; then
	for _f in /etc/group /etc/group- /etc/gshadow /etc/gshadow-; do g_backup "$_f" || return 1; done
	groupadd "$SUDO_SU_GROUP" || return 1
fi
awk -v line="auth       required   pam_wheel.so use_uid group=$SUDO_SU_GROUP" '
/^[[:space:]]*auth[[:space:]].*pam_wheel\.so/ && $0 !~ /^[[:space:]]*#/ { next }
{ print }
/^[[:space:]]*auth[[:space:]].*pam_rootok\.so/ && !done { print line; done = 1 }
END { if (!done) print line }' /etc/pam.d/su | g_write_file /etc/pam.d/su 0644 root:root
