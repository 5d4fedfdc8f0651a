/^[[:space:]]*#/ { next }
/pam_unix\.so/ {
	if ($1 != "password") next
	for (i = 1; i <= NF; i++) if ($i == "use_authtok") next
	print FILENAME ": " $0
}
