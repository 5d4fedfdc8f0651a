	case " $MODULES_ALLOW " in
	*" $_mod "*)
		g_say "$_mod is kept available by kernel_modules.allow"
		return 2
		;;
	esac
