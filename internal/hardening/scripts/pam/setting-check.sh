	set --
	for _f in $_files; do
		if [ -f "$_f" ]; then set -- "$@" "$_f"; fi
	done
	if [ $# -eq 0 ]; then
		g_say "no file to read $_st_key from: $_files"
		false
	elif awk -v key="$_st_key" -v op="$_st_op" -v want="$_st_want" -v mod="$_st_mod" "$_setting_awk" "$@"; then
		true
	else
		false
	fi
