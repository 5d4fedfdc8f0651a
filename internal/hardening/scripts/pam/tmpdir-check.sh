if ! g_pkg_installed libpam-tmpdir; then g_say "libpam-tmpdir is not installed"; return 1; fi
_pam_rc=0
for _f in /etc/pam.d/common-session /etc/pam.d/common-session-noninteractive; do
	if grep -Eq '^[[:space:]]*session[^#]*pam_tmpdir\.so' "$_f" 2>/dev/null; then g_say "$_f: pam_tmpdir.so"; else g_say "$_f: no pam_tmpdir.so"; _pam_rc=1; fi
done
return $_pam_rc
