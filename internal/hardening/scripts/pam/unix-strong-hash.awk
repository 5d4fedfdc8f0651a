/^[[:space:]]*#/ { next }
/pam_unix\.so/ {
	if ($1 != "password") next
	strong = 0; weak = ""
	for (i = 1; i <= NF; i++) { if ($i == "sha512" || $i == "yescrypt") strong = 1; if ($i == "md5" || $i == "bigcrypt" || $i == "sha256" || $i == "blowfish") weak = $i }
	if (!strong || weak != "") print FILENAME ": " $0
}
