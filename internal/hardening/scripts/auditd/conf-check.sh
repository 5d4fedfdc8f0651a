	if [ ! -f "$_auditd_conf" ]; then
		g_say "$_auditd_conf does not exist"
		return 1
	fi
	_pairs=$_audit_pairs awk -v op=check "$_audit_conf_awk" "$_auditd_conf"
