for _f in $_files; do
	[ -f "$_f" ] || continue
	sed -E "$_pam_sed" "$_f" | g_write_file "$_f" 0644 root:root || return 1
done
