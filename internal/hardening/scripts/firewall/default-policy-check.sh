	g_say "default policies: incoming $_in, outgoing $_out, routed $_fwd"
	_rc=0
	case $_in in DROP | REJECT) ;; *) _rc=1 ;; esac
	case $_fwd in DROP | REJECT) ;; *) _rc=1 ;; esac
	case $FIREWALL_DEFAULT_OUTGOING:$_out in
	deny:DROP | deny:REJECT) ;;
	allow:ACCEPT) g_say "outgoing traffic allowed by firewall.default_outgoing (CIS expects deny)" ;;
	*) _rc=1 ;;
	esac
	return "$_rc"
