for _f in /etc/passwd /etc/passwd- /etc/shadow /etc/shadow-; do g_backup "$_f" || return 1; done
pwconv
