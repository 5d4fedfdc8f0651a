	_new=$G_WORK_DIR/sshd-main.tmp
	_op=set _key=$_key _val=$_val awk "$_ssh_main_awk" "$_sshd_config" >"$_new" || return 1
	g_set_content "$_sshd_config" "$_new"
