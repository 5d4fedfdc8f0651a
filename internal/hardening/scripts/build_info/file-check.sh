if [ ! -f "$_bi_file" ]; then g_say "$_bi_file does not exist"; return 1; fi
_rc=0
if [ "$(grep -v '^GOLDEN_BUILD_TIME=' "$_bi_file")" != "$_want" ]; then
	g_say "$_bi_file differs from the build's facts:"
	_rc=1
fi
cat "$_bi_file"
_st=$(stat -c '%a %U %G' "$_bi_file")
if [ "$_st" != "644 root root" ]; then g_say "$_bi_file: mode and owner $_st, wanted 644 root root"; _rc=1; fi
return $_rc
