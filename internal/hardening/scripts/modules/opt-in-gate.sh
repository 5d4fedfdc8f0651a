	case " $MODULES_DISABLE " in
	*" $_mod "*) ;;
	*)
		g_say "$_mod is kept available ($_why); list it in kernel_modules.disable to disable it"
		return 2
		;;
	esac
