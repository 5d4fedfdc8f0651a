_pam_order=$(awk '/^[[:space:]]*#/ { next }
/pam_faillock\.so.*preauth/ && !p { p = NR }
/pam_unix\.so/ && !u { u = NR }
/pam_faillock\.so.*authfail/ && !f { f = NR }
END { if (p && u && f && p < u && u < f) print "ok"; else printf "preauth line %d, pam_unix line %d, authfail line %d", p, u, f }' /etc/pam.d/common-auth 2>/dev/null)
if [ "$_pam_order" != ok ]; then g_say "common-auth: pam_faillock not in place ($_pam_order)"; return 1; fi
if ! grep -Eq '^[[:space:]]*account.*pam_faillock\.so' /etc/pam.d/common-account; then g_say "common-account: no pam_faillock.so"; return 1; fi
g_say "pam_faillock: preauth and authfail around pam_unix in common-auth, account hook in common-account"
return 0
