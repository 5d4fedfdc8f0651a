if [ ! -f "/usr/share/zoneinfo/$TIMEZONE_NAME" ]; then
	g_pkg_install tzdata || return 1
	if [ ! -f "/usr/share/zoneinfo/$TIMEZONE_NAME" ]; then echo "unknown time zone $TIMEZONE_NAME" >&2; return 1; fi
fi
_want=$(readlink -f "/usr/share/zoneinfo/$TIMEZONE_NAME")
if [ "$(readlink -f /etc/localtime 2>/dev/null)" != "$_want" ]; then
	g_backup /etc/localtime || return 1
	ln -sfn "/usr/share/zoneinfo/$TIMEZONE_NAME" /etc/localtime.golden-new &&
		mv -f /etc/localtime.golden-new /etc/localtime || return 1
fi
_cur=$(cat /etc/timezone 2>/dev/null)
if [ -n "$_cur" ] && [ "$(readlink -f "/usr/share/zoneinfo/$_cur" 2>/dev/null)" = "$_want" ]; then return 0; fi
printf '%s\n' "$TIMEZONE_NAME" | g_write_file /etc/timezone 0644 root:root
