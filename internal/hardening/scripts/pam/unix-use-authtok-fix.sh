# A golden-pwhistory profile the module's Finalize is to enable counts: it lands before pam_unix.
if ! grep -Eq '^[[:space:]]*password.*pam_(pwquality|pwhistory)\.so' /etc/pam.d/common-password &&
	! grep -qx golden-pwhistory "$G_WORK_DIR/$_pam_pending" 2>/dev/null; then
	echo "no password module before pam_unix to take the new password from: enable pam_pwquality first" >&2
	return 1
fi
sed -E '/^[[:space:]]*password[^#]*pam_unix\.so/ { /[[:space:]]use_authtok([[:space:]]|$)/! s/$/ use_authtok/ }' /etc/pam.d/common-password |
	g_write_file /etc/pam.d/common-password 0644 root:root
