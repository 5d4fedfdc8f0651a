	if [ "$G_BUILD_USER" = root ]; then
		g_say "the build logs in as root: root login stays allowed so the build keeps its access"
		return 2
	fi
