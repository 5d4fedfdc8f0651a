awk -F: -v skip="$G_BUILD_USER" -v max="$LOGIN_PASS_MAX_DAYS" -v min="$LOGIN_PASS_MIN_DAYS" \
	-v warn="$LOGIN_PASS_WARN_AGE" -v inact="$LOGIN_INACTIVE_DAYS" '
$1 == skip || $2 == "" || $2 ~ /^[!*]/ { next }
{
	m = ($5 != "" && $5 + 0 >= 1 && $5 + 0 <= max + 0) ? $5 : max
	n = ($4 != "" && $4 + 0 >= min + 0) ? $4 : min
	w = ($6 != "" && $6 + 0 >= warn + 0) ? $6 : warn
	i = ($7 != "" && $7 + 0 >= 0 && $7 + 0 <= inact + 0) ? $7 : inact
	if (m != $5 || n != $4 || w != $6 || i != $7) print $1, m, n, w, i
}' /etc/shadow
