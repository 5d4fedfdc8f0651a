if grep -Eq '^[[:space:]]*password.*pam_pwquality\.so' /etc/pam.d/common-password; then g_say "common-password: pam_pwquality.so"; return 0; fi
g_say "common-password: no pam_pwquality.so"
return 1
