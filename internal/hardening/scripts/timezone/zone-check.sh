_zone=/usr/share/zoneinfo/$TIMEZONE_NAME
if [ ! -f "$_zone" ]; then g_say "no zone file $_zone (tzdata missing, or an unknown zone)"; return 1; fi
_want=$(readlink -f "$_zone")
_rc=0
if [ "$(readlink -f /etc/localtime 2>/dev/null)" = "$_want" ]; then
	g_say "/etc/localtime -> $(readlink /etc/localtime)"
else
	g_say "/etc/localtime is $(readlink /etc/localtime 2>/dev/null || echo 'not a link'), wanted $TIMEZONE_NAME"
	_rc=1
fi
_cur=$(cat /etc/timezone 2>/dev/null)
if [ -n "$_cur" ] && [ "$(readlink -f "/usr/share/zoneinfo/$_cur" 2>/dev/null)" = "$_want" ]; then
	g_say "/etc/timezone: $_cur"
else
	g_say "/etc/timezone: ${_cur:-missing}, wanted $TIMEZONE_NAME"
	_rc=1
fi
return $_rc
