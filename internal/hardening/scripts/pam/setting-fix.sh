# The configuration files are staged (g_stage_kv): the module's settings in one file are installed
# once, before its Finalize, instead of once per setting.
_found=0
for _f in $_files; do
	[ -f "$_f" ] || continue
	grep -Eq "^[[:space:]]*$_st_key([[:space:]]|=|\$)" "$_f" || continue
	_found=1
	if awk -v key="$_st_key" -v op="$_st_op" -v want="$_st_want" -v mod= "$_setting_awk" "$_f" >/dev/null; then continue; fi
	g_stage_kv "$_f" "$_st_key" "$_st_want" ' = ' || return 1
done
if [ "$_found" -eq 0 ]; then g_stage_kv "$_st_main" "$_st_key" "$_st_want" ' = ' || return 1; fi
# Arguments on the PAM line override the module's configuration file: a weaker one left there
# would defeat the fix. pam-auth-update keeps such local option removals when it regenerates
# the file.
if ! awk -v key="$_st_key" -v op="$_st_op" -v want="$_st_want" -v mod="$_st_mod" "$_setting_awk" "$_st_pam" >/dev/null; then
	if [ -f "$_st_pam" ]; then
		sed -E "/^[^#]*$_st_mod_re/ s/[[:space:]]+$_st_key(=[^[:space:]]*)?([[:space:]]|\$)/\\2/g" "$_st_pam" |
			g_write_file "$_st_pam" 0644 root:root || return 1
	fi
fi
