printf '%s\n' "$_ko_script" | g_write_file "$_ko_script_path" 0755 root:root || return 1
printf '%s\n' "$_ko_unit" | g_write_file "$_ko_unit_path" 0644 root:root || return 1
if [ ! -L "$_ko_wants_path" ]; then
	g_backup "$_ko_wants_path" || return 1
	ln -sf "$_ko_unit_path" "$_ko_wants_path" || return 1
fi
if ! "$_ko_script_path" --check >/dev/null; then
	for _f in /etc/shadow /etc/shadow-; do g_backup "$_f" || return 1; done
	"$_ko_script_path" || return 1
fi
