	if [ -z "$MODULES_DISABLE" ]; then
		g_say "kernel_modules.disable lists no module"
		return 2
	fi
