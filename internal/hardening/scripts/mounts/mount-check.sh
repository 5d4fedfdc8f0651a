# One mount point (_mp) with its options (_opts): the file system mounted there now, and the line
# of /etc/fstab that mounts it at every boot. Compliant when both have the options. In a
# container, whose manager mounts _mp itself and may refuse a remount, the fstab line alone is in
# force at the next boot of a real machine (3).
# _mnt_has LIST: every option of _opts is in the comma-separated LIST.
_mnt_has() {
	_mh=,$1,
	_mo=$_opts,
	while [ -n "$_mo" ]; do
		case $_mh in *",${_mo%%,*},"*) ;; *) return 1 ;; esac
		_mo=${_mo#*,}
	done
}
_live=$(findmnt -n -o FSTYPE,OPTIONS -M "$_mp" 2>/dev/null | tail -n 1)
_boot=
[ -f /etc/fstab ] && _boot=$(_op=get _mp=$_mp awk "$_fstab_awk" /etc/fstab)
g_say "$_mp mounted now: ${_live:-no file system of its own}"
g_say "/etc/fstab: ${_boot:-no line for $_mp}"
_bootok=0
[ -n "$_boot" ] && _mnt_has "${_boot#* }" && _bootok=1
if [ -n "$_live" ] && _mnt_has "${_live#* }"; then
	[ "$_bootok" = 1 ] && return 0
	g_say "at the next boot $_mp is mounted without $_opts"
	return 1
fi
[ "$_bootok" = 1 ] || return 1
_unit=$(systemd-escape -p --suffix=mount "$_mp")
if g_unit_masked "$_unit" || systemctl is-failed -q -- "$_unit" 2>/dev/null; then
	g_say "$_unit is masked or failed"
	return 1
fi
if [ "$G_IN_CONTAINER" = 1 ]; then
	g_say "the container manager mounts $_mp: the fstab line is in force at the next boot of a real machine"
	return 3
fi
return 1
