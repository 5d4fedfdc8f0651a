for _f in $_pam_common_files /var/lib/pam/auth /var/lib/pam/account /var/lib/pam/password /var/lib/pam/session /var/lib/pam/session-noninteractive /var/lib/pam/seen /var/cache/debconf/config.dat; do
	g_backup "$_f"
done
