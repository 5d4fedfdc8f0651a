if g_file_is /etc/profile.d/golden-tmout.sh "$_want"; then g_say "/etc/profile.d/golden-tmout.sh: TMOUT=$LOGIN_SHELL_TIMEOUT, read-only"; return 0; fi
g_say "/etc/profile.d/golden-tmout.sh is missing or differs"
return 1
