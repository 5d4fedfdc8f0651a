_bad=$(awk -F: 'NR == FNR { gid[$3] = 1; next } !($4 in gid) { print "user " $1 ": group " $4 " does not exist" }' /etc/group /etc/passwd)
if [ -n "$_bad" ]; then printf '%s\n' "$_bad"; return 1; fi
g_say "every primary group in /etc/passwd exists in /etc/group"
