	set --
	case $_in in DROP | REJECT) ;; *) set -- "$@" "default deny incoming" ;; esac
	case $_fwd in DROP | REJECT) ;; *) set -- "$@" "default deny routed" ;; esac
	case $FIREWALL_DEFAULT_OUTGOING:$_out in
	deny:DROP | deny:REJECT | allow:ACCEPT) ;;
	*) set -- "$@" "default $FIREWALL_DEFAULT_OUTGOING outgoing" ;;
	esac
	[ "$#" -eq 0 ] || _fw_change "$@"
