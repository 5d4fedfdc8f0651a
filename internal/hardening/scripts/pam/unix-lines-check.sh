set --
for _f in $_files; do
	if [ -f "$_f" ]; then set -- "$@" "$_f"; fi
done
if [ $# -eq 0 ]; then g_say "none of $_files exists"; return 1; fi
_pam_bad=$(awk "$_pam_unix_awk" "$@")
if [ -n "$_pam_bad" ]; then printf '%s\n' "$_pam_bad"; return 1; fi
g_say "pam_unix lines in $*: compliant"
