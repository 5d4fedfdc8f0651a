_cur=$(useradd -D | sed -n 's/^INACTIVE=//p')
g_say "useradd default INACTIVE=${_cur:-unset} (wanted 0 to $LOGIN_INACTIVE_DAYS)"
[ -n "$_cur" ] && [ "$_cur" -ge 0 ] 2>/dev/null && [ "$_cur" -le "$LOGIN_INACTIVE_DAYS" ]
