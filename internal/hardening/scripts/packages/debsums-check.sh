# debsums' cron jobs read CRON_CHECK (never, daily, weekly or monthly) from /etc/default/debsums;
# the package installs it with never.
if ! g_pkg_installed debsums; then g_say "debsums is not installed"; return 1; fi
_period=$(sed -n 's/^[[:space:]]*CRON_CHECK=//p' /etc/default/debsums 2>/dev/null | tail -n 1 | tr -d "\"' ")
case $_period in
daily | weekly | monthly)
	g_say "debsums is installed, its cron job checks $_period (/etc/default/debsums: CRON_CHECK=$_period)"
	return 0
	;;
esac
g_say "debsums is installed, its cron job checks nothing (/etc/default/debsums: CRON_CHECK=${_period:-unset})"
return 1
