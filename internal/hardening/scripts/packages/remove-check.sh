if [ -z "$PACKAGES_REMOVE" ]; then g_say "not applicable: packages.remove is empty"; return 2; fi
_present=""
for _p in $PACKAGES_REMOVE; do
	if g_pkg_installed "$_p"; then _present="$_present $_p"; fi
done
if [ -z "$_present" ]; then g_say "not installed: $PACKAGES_REMOVE"; return 0; fi
g_say "installed:$_present"
return 1
