	g_stage "$_sshd_config"
	_op=set _key=$_key _val=$_val awk "$_ssh_main_awk" "$_g_sf" >"$_g_sn" || return 1
	g_stage_done "$_sshd_config"
