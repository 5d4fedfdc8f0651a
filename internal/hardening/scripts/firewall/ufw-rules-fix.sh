	_fw_read || return 1
	set --
	while IFS= read -r _r; do
		[ -n "$_r" ] || continue
		grep -qxF -- "ufw $_r" "$_fw_added" || set -- "$@" "$_r"
	done <<EOF
$_rules
EOF
	[ "$#" -eq 0 ] || _fw_change "$@"
