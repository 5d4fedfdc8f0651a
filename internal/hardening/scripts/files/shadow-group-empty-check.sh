if ! getent group shadow >/dev/null; then g_say "not applicable: there is no shadow group"; return 2; fi
_bad=$(awk -F: 'NR == FNR { if ($1 == "shadow") { gid = $3; if ($4 != "") print "members of group shadow: " $4 }; next } $4 == gid { print "user " $1 " has shadow as primary group" }' /etc/group /etc/passwd)
if [ -n "$_bad" ]; then printf '%s\n' "$_bad"; return 1; fi
g_say "group shadow has no members"
