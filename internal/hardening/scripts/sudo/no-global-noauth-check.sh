_bad=$(grep -EHn '^[[:space:]]*Defaults[^#]*!authenticate' "$@")
if [ -n "$_bad" ]; then printf '%s\n' "$_bad"; return 1; fi
g_say "no Defaults !authenticate in $*"
