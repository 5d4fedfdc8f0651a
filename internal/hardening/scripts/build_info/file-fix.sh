if [ -f "$_bi_file" ] && [ "$(grep -v '^GOLDEN_BUILD_TIME=' "$_bi_file")" = "$_want" ]; then
	g_set_mode "$_bi_file" 0644 root:root
	return
fi
{
	printf '%s\n' "$_want"
	printf "GOLDEN_BUILD_TIME='%s'\n" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} | g_write_file "$_bi_file" 0644 root:root
