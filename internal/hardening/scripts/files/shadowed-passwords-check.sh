_bad=$(awk -F: '$2 != "x" { print "user " $1 " keeps its password in /etc/passwd" }' /etc/passwd)
if [ -n "$_bad" ]; then printf '%s\n' "$_bad"; return 1; fi
g_say "every account in /etc/passwd uses /etc/shadow"
