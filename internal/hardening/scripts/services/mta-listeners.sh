if ! g_cmd ss; then g_say "not applicable: ss (iproute2) is not installed"; return 2; fi
_bad=$(ss -H -l -n -t 2>/dev/null | awk '{ a = $4; p = a; sub(/.*:/, "", p); h = a; sub(/:[^:]*$/, "", h)
	if ((p == 25 || p == 465 || p == 587) && h != "127.0.0.1" && h != "[::1]" && h !~ /^127\./) print a }')
