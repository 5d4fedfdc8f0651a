_pam_rc=0
for _f in /etc/pam.d/common-auth /etc/pam.d/common-account /etc/pam.d/common-password /etc/pam.d/common-session; do
	if grep -Eq '^[[:space:]]*[^#[:space:]].*pam_unix\.so' "$_f" 2>/dev/null; then g_say "$_f: pam_unix.so"; else g_say "$_f: no pam_unix.so"; _pam_rc=1; fi
done
return $_pam_rc
