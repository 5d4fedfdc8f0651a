_cur=$(awk '$1 == "ENCRYPT_METHOD" { v = $2 } END { print v }' /etc/login.defs)
g_say "ENCRYPT_METHOD ${_cur:-unset} (wanted $_want)"
[ "$_cur" = "$_want" ]
