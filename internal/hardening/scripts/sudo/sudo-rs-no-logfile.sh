_v=$(visudo -V 2>/dev/null)
_v=${_v%%"
"*}
case $_v in
visudo-rs*)
	g_say "not applicable: sudo is sudo-rs ($_v), which has no logfile setting and logs every command to the system log (auth facility)"
	return 2
	;;
esac
