/^[[:space:]]*#/ { next }
/pam_unix\.so/ { for (i = 1; i <= NF; i++) if ($i ~ /^remember=/) { print FILENAME ": " $0; next } }
