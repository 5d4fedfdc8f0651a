for _f in /etc/shadow /etc/shadow-; do g_backup "$_f" || return 1; done
awk -F: -v skip="$G_BUILD_USER" -v max="$LOGIN_PASS_MAX_DAYS" -v min="$LOGIN_PASS_MIN_DAYS" \
	-v warn="$LOGIN_PASS_WARN_AGE" -v inact="$LOGIN_INACTIVE_DAYS" "$_login_ages_awk" /etc/shadow >"$G_WORK_DIR/login-ages"
while read -r _u _max _min _warn _inact; do
	chage --maxdays "$_max" --mindays "$_min" --warndays "$_warn" --inactive "$_inact" "$_u" || return 1
done <"$G_WORK_DIR/login-ages"
