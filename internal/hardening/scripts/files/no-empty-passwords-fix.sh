for _f in /etc/shadow /etc/shadow-; do g_backup "$_f" || return 1; done
awk -F: '$2 == "" { print $1 }' /etc/shadow >"$G_WORK_DIR/empty-passwords"
while read -r _u; do passwd -l "$_u" || return 1; done <"$G_WORK_DIR/empty-passwords"
