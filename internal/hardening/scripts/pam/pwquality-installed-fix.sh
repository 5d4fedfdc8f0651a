g_pkg_install libpam-pwquality cracklib-runtime || return 1
if [ ! -f "$_cracklib_dict" ]; then update-cracklib; fi
