_pam_hash=sha512
for _f in /lib/*/security/pam_unix.so /usr/lib/*/security/pam_unix.so; do
	if [ -f "$_f" ] && grep -q yescrypt "$_f"; then _pam_hash=yescrypt; fi
done
sed -E '/^[[:space:]]*password[^#]*pam_unix\.so/ { s/[[:space:]]+(md5|bigcrypt|sha256|blowfish)([[:space:]]|$)/\2/g; /[[:space:]](sha512|yescrypt)([[:space:]]|$)/! s/$/ '"$_pam_hash"'/ }' /etc/pam.d/common-password |
	g_write_file /etc/pam.d/common-password 0644 root:root
