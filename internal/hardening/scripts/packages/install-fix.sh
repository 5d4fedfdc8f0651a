# shellcheck disable=SC2086 # a list of package names
g_pkg_install $PACKAGES_INSTALL
