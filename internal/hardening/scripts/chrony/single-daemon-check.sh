	_rc=0
	# One look-up for chrony and the daemons that must not run next to it.
	# shellcheck disable=SC2086 # _chrony_others is a list of package names
	g_pkg_missing chrony $_chrony_others
	_missing=" $_g_pm"
	case $_missing in
	*" chrony "*)
		g_say "chrony is not installed"
		_rc=1
		;;
	*) g_say "chrony is installed" ;;
	esac
	for _p in $_chrony_others; do
		case $_missing in
		*" $_p "*) ;;
		*)
			g_say "$_p is installed"
			_rc=1
			;;
		esac
	done
	# is-enabled says nothing (or not-found) for a unit that does not exist.
	_ts=$(systemctl is-enabled systemd-timesyncd 2>/dev/null)
	case $_ts in
	"" | not-found | masked) ;;
	*)
		g_say "systemd-timesyncd is $_ts, $(systemctl is-active systemd-timesyncd 2>/dev/null)"
		_rc=1
		;;
	esac
	return "$_rc"
