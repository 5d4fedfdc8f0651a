if [ "$_perm_group" = shadow ] && ! getent group shadow >/dev/null; then _perm_group=root; fi
_m=$(stat -Lc '%a' -- "$_perm_path") || return 1
g_set_mode "$_perm_path" "$(printf '%o' $((0$_m & 0$_perm_max)))" "$_perm_owner:$_perm_group"
