	_rc=$?
	if g_cmd modprobe; then
		for _mod in $_mods; do
			_dry=$(modprobe -n -v "$_mod" 2>&1)
			case $_dry in
			*"install /bin/false"*) ;;
			*)
				g_say "modprobe -n -v $_mod: $_dry"
				_rc=1
				;;
			esac
		done
	fi
	return "$_rc"
