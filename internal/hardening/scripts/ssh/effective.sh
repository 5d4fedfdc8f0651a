	_t=$G_WORK_DIR/ssh.effective
	if [ ! -f "$_t" ] && ! sshd -T -C user=root,host=localhost,addr=127.0.0.1 >"$_t" 2>&1; then
		g_say "sshd -T failed:"
		cat -- "$_t"
		rm -f -- "$_t"
		return 1
	fi
