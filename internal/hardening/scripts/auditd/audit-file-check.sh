	if g_file_is "$_f" "$_want"; then
		g_say "$_f: $(grep -c '^-' "$_f") rules"
		return 0
	fi
	g_say "$_f differs from the rule set"
	return 1
