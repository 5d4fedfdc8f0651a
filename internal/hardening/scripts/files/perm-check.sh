if [ ! -e "$_perm_path" ]; then
	if [ "$_perm_missing_ok" = 1 ]; then
		g_say "not applicable: $_perm_path does not exist"
		return 2
	fi
	g_say "$_perm_path does not exist"
	return 1
fi
if [ "$_perm_group" = shadow ] && ! getent group shadow >/dev/null; then _perm_group=root; fi
_st=$(stat -Lc '%a %U %G' -- "$_perm_path") || return 1
_m=${_st%% *} _st=${_st#* }
_o=${_st%% *} _g=${_st#* }
g_say "$_perm_path: mode $_m, owner $_o:$_g (wanted at most $_perm_max, $_perm_owner:$_perm_group)"
[ $((0$_m & ~0$_perm_max)) -eq 0 ] && [ "$_o" = "$_perm_owner" ] && [ "$_g" = "$_perm_group" ]
