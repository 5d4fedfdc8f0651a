_sd=/etc/sudoers.d/golden-hardening
_tmp=$G_WORK_DIR/sudoers.golden-hardening
{
	if [ -f "$_sd" ]; then
		grep -Ev "^[[:space:]]*Defaults[[:space:]]+!?$_sd_key([[:space:]]*=.*)?[[:space:]]*\$" "$_sd"
	else
		printf '%s\n' '# Managed by golden-harden: CIS sudo settings, checked with visudo.'
	fi
	printf '%s\n' "$_sd_line"
} >"$_tmp"
if ! visudo -cf "$_tmp" >&2; then
	echo "visudo rejects the new $_sd:" >&2
	cat "$_tmp" >&2
	return 1
fi
g_write_file "$_sd" 0440 root:root <"$_tmp"
