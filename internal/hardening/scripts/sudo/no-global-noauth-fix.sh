for _f in "$@"; do
	grep -Eq '^[[:space:]]*Defaults[^#]*!authenticate' "$_f" || continue
	sed -E 's/^([[:space:]]*Defaults[^#]*!authenticate.*)$/# disabled by golden-harden (CIS 5.2.5): \1/' "$_f" >"$G_WORK_DIR/sudoers.edit"
	visudo -cf "$G_WORK_DIR/sudoers.edit" >&2 || return 1
	g_write_file "$_f" 0440 root:root <"$G_WORK_DIR/sudoers.edit" || return 1
done
