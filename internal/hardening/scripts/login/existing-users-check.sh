if [ "$LOGIN_APPLY_TO_EXISTING_USERS" != 1 ]; then
	g_say "not applicable: login.apply_to_existing_users is false (existing accounts keep their password ages)"
	return 2
fi
_bad=$(awk -F: -v skip="$G_BUILD_USER" -v max="$LOGIN_PASS_MAX_DAYS" -v min="$LOGIN_PASS_MIN_DAYS" \
	-v warn="$LOGIN_PASS_WARN_AGE" -v inact="$LOGIN_INACTIVE_DAYS" "$_login_ages_awk" /etc/shadow)
if [ -n "$_bad" ]; then g_say "accounts to tighten (user max min warn inactive):"; printf '%s\n' "$_bad"; return 1; fi
g_say "every account with a password (but the build user) has compliant password ages"
