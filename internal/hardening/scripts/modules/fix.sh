	_new=$G_WORK_DIR/modprobe.new
	{
		if [ -f "$_conf" ]; then
			cat -- "$_conf"
		else
			printf '# golden-harden: kernel modules kept unavailable (CIS 1.1.1, 3.2)\n'
		fi
		for _mod in $_mods; do
			grep -qxF -- "install $_mod /bin/false" "$_conf" 2>/dev/null || printf 'install %s /bin/false\n' "$_mod"
			grep -qxF -- "blacklist $_mod" "$_conf" 2>/dev/null || printf 'blacklist %s\n' "$_mod"
		done
	} >"$_new"
	g_write_file "$_conf" 0644 root:root <"$_new" || return 1
	for _mod in $_mods; do
		# The name with '-' and '_' alike (the kernel treats them as one), and as /proc/modules has it.
		_u=""
		_re=""
		_r=$_mod
		while :; do
			case $_r in
			*[-_]*)
				_u="$_u${_r%%[-_]*}_"
				_re="$_re${_r%%[-_]*}[-_]"
				_r=${_r#*[-_]}
				;;
			*)
				_u=$_u$_r
				_re=$_re$_r
				break
				;;
			esac
		done
		_ere="^[[:space:]]*install[[:space:]]+$_re([[:space:]]|$)"
		for _f in /etc/modprobe.d/*.conf; do
			if [ -f "$_f" ] && [ "$_f" != "$_conf" ]; then
				g_remove_lines "$_f" "$_ere" || return 1
			fi
		done
		if [ "$G_IN_CONTAINER" != 1 ] && grep -q "^$_u " /proc/modules 2>/dev/null; then
			modprobe -r "$_mod" 2>/dev/null || rmmod "$_u" || return 1
		fi
	done
