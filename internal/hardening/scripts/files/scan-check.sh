_list=$_scan.$_scan_tag
_n=0
[ -s "$_list" ] && _n=$(wc -l <"$_list")
if [ "$_scanrc" -eq 124 ]; then
	g_say "scan of $_roots stopped after ${FILES_SCAN_TIMEOUT}s (files.scan_timeout), $_n $_scan_what found so far:"
elif [ "$_n" -eq 0 ]; then
	g_say "no $_scan_what on $_roots"
	return 0
else
	g_say "$_n $_scan_what on $_roots (fix them in an earlier provisioner, or waive this control):"
fi
head -n 50 "$_list"
[ "$_n" -le 50 ] || g_say "... and $((_n - 50)) more"
return 1
