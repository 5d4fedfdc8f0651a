if ! g_cmd "$_allow_tool"; then g_say "not applicable: $_allow_tool is not installed"; return 2; fi
_grp=root
if getent group "$_allow_group" >/dev/null; then _grp=$_allow_group; fi
_rc=0
# One user a line; the names are validated, so no glob and no blank but the separators.
_want=""
for _u in $CRON_ALLOW_USERS; do
	_want="$_want$_u
"
done
if [ ! -f "$_allow_file" ]; then
	g_say "$_allow_file does not exist"
	_rc=1
else
	_st=$(stat -c '%a %U %G' "$_allow_file") || return 1
	_m=${_st%% *} _st=${_st#* }
	_o=${_st%% *} _g=${_st#* }
	_same=0
	g_file_is "$_allow_file" "$_want" && _same=1
	set -f
	# shellcheck disable=SC2086 # the file's lines, as words
	set -- $_g_fi
	set +f
	g_say "$_allow_file: mode $_m, owner $_o:$_g, users: $*"
	if [ $((0$_m & ~0640)) -ne 0 ] || [ "$_o" != root ] || [ "$_g" != "$_grp" ]; then _rc=1; fi
	if [ "$_same" -eq 0 ]; then g_say "wanted users: $CRON_ALLOW_USERS"; _rc=1; fi
fi
if [ -e "$_deny_file" ]; then g_say "$_deny_file exists"; _rc=1; fi
return $_rc
