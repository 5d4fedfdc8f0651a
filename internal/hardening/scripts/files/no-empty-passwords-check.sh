_bad=$(awk -F: '$2 == "" { printf " %s", $1 }' /etc/shadow)
if [ -n "$_bad" ]; then g_say "accounts with an empty password:$_bad"; return 1; fi
g_say "no account has an empty password"
