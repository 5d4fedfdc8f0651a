# States _mp with _opts in /etc/fstab (a line of its own, _line, when it has none) and remounts it
# with them. systemd turns the line into a mount unit (see the Finalize).
_new=$G_WORK_DIR/fstab.tmp
_src=/etc/fstab
[ -f "$_src" ] || _src=/dev/null
_op=set _mp=$_mp _opts=$_opts _line=$_line awk "$_fstab_awk" "$_src" >"$_new" || return 1
g_write_file /etc/fstab 0644 root:root <"$_new" || return 1
findmnt -M "$_mp" >/dev/null 2>&1 || return 0
if ! mount -o "remount,$_opts" "$_mp"; then
	[ "$G_IN_CONTAINER" = 1 ] || return 1
	g_say "the container refuses to remount $_mp: in force at the next boot of a real machine"
fi
