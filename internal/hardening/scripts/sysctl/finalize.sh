	# The running values the fixes found different, one sysctl call for all of them (the
	# positional parameters are the only list POSIX sh has: one "key=value" each, vectors
	# included). When the kernel refuses one, each is set on its own: the re-checks then report
	# the controls whose value did not take, as they did when each fix set its own.
	[ -s "$G_WORK_DIR/sysctl.live" ] || return 0
	set --
	while IFS= read -r _kv; do
		set -- "$@" "$_kv"
	done <"$G_WORK_DIR/sysctl.live"
	if ! sysctl -q -w "$@"; then
		for _kv in "$@"; do
			sysctl -q -w "$_kv"
		done
	fi
	sysctl -q -w net.ipv4.route.flush=1 net.ipv6.route.flush=1 2>/dev/null
	echo "$# running values set"
	return 0
