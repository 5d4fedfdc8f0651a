if g_pkg_installed libpam-pwquality cracklib-runtime && [ -f "$_cracklib_dict" ]; then
	g_say "libpam-pwquality and cracklib-runtime are installed, $_cracklib_dict exists"
	return 0
fi
g_say "libpam-pwquality or cracklib-runtime is not installed, or $_cracklib_dict is missing"
return 1
