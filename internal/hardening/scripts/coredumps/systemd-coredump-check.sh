	if [ ! -f /etc/systemd/coredump.conf ] && [ ! -x /lib/systemd/systemd-coredump ] && [ ! -x /usr/lib/systemd/systemd-coredump ]; then
		g_say "systemd-coredump is not installed: the kernel's core pattern and the hard limit apply"
		return 2
	fi
	if g_cmd systemd-analyze && systemd-analyze cat-config systemd/coredump.conf >/dev/null 2>&1; then
		_cfg=$(systemd-analyze cat-config systemd/coredump.conf 2>/dev/null)
	else
		_cfg=$(cat /etc/systemd/coredump.conf /etc/systemd/coredump.conf.d/*.conf 2>/dev/null)
	fi
	_storage=$(printf '%s\n' "$_cfg" | sed -n 's/^[[:space:]]*Storage[[:space:]]*=[[:space:]]*//p' | tail -n 1)
	_size=$(printf '%s\n' "$_cfg" | sed -n 's/^[[:space:]]*ProcessSizeMax[[:space:]]*=[[:space:]]*//p' | tail -n 1)
	g_say "Storage=${_storage:-external (default)} ProcessSizeMax=${_size:-default}"
	[ "$_storage" = none ] && [ "$_size" = 0 ]
