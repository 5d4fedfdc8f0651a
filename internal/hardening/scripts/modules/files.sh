	set -- /dev/null
	[ -f "$_conf" ] && set -- "$@" "$_conf"
	for _f in /etc/modprobe.d/*.conf /run/modprobe.d/*.conf /lib/modprobe.d/*.conf /usr/lib/modprobe.d/*.conf; do
		[ -f "$_f" ] && [ "$_f" != "$_conf" ] && set -- "$@" "$_f"
	done
	[ -r /proc/modules ] && set -- "$@" /proc/modules
