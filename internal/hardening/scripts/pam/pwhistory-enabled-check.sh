if grep -Eq '^[[:space:]]*password.*pam_pwhistory\.so' /etc/pam.d/common-password; then g_say "common-password: pam_pwhistory.so"; return 0; fi
g_say "common-password: no pam_pwhistory.so"
return 1
