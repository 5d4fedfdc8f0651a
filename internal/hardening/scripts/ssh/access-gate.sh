	if [ -z "$_au$_ag$_du$_dg" ]; then
		g_say "the build user is root and no access list is set: nothing can be restricted without locking the build out"
		return 2
	fi
