	_au=$SSH_ALLOW_USERS
	_ag=$SSH_ALLOW_GROUPS
	_bg=" $(id -Gn "$G_BUILD_USER" 2>/dev/null) "
	if [ -n "$_au" ]; then
		case " $_au " in
		*" $G_BUILD_USER "*) ;;
		*) _au="$_au $G_BUILD_USER" ;;
		esac
	fi
	if [ -n "$_ag" ]; then
		_in=0
		for _g in $_ag; do
			case $_bg in
			*" $_g "*) _in=1 ;;
			esac
		done
		[ "$_in" -eq 1 ] || _ag="$_ag $(id -gn "$G_BUILD_USER")"
	fi
	_du=""
	for _u in $SSH_DENY_USERS; do
		[ "$_u" = "$G_BUILD_USER" ] || _du="$_du $_u"
	done
	_dg=""
	for _g in $SSH_DENY_GROUPS; do
		case $_bg in
		*" $_g "*) ;;
		*) _dg="$_dg $_g" ;;
		esac
	done
	if [ -z "$_au$_ag$_du$_dg" ] && [ "$G_BUILD_USER" != root ]; then
		_du=root
	fi
	# One space between the patterns; no globbing (they are sshd's patterns, * included).
	set -f
	# shellcheck disable=SC2086 # word splitting squeezes the blanks
	{
		set -- $_au
		_au=$*
		set -- $_ag
		_ag=$*
		set -- $_du
		_du=$*
		set -- $_dg
		_dg=$*
	}
	set +f
