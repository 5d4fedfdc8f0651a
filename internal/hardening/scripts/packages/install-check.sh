if [ -z "$PACKAGES_INSTALL" ]; then g_say "not applicable: packages.install is empty"; return 2; fi
# shellcheck disable=SC2086 # a list of package names
g_pkg_missing $PACKAGES_INSTALL
if [ -z "$_g_pm" ]; then g_say "installed: $PACKAGES_INSTALL"; return 0; fi
g_say "missing: $_g_pm"
return 1
