	[ -f "$_auditd_conf" ] || { echo "$_auditd_conf is missing: install auditd first" >&2; return 1; }
	_new=$G_WORK_DIR/auditd.conf.new
	_pairs=$_audit_pairs awk -v op=fix "$_audit_conf_awk" "$_auditd_conf" "$_auditd_conf" >"$_new" || return 1
	_m=$(stat -c '%a %U:%G' "$_auditd_conf") || return 1
	g_write_file "$_auditd_conf" "${_m%% *}" "${_m#* }" <"$_new"
