if [ -f "$_banner_file" ] && g_file_is "$_banner_file" "$_banner_text"; then
	g_say "$_banner_file has the configured text"
	return 0
fi
g_say "$_banner_file differs from the configured text:"
head -n 5 "$_banner_file" 2>/dev/null
return 1
