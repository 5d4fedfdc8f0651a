/^[^#]*pam_unix\.so/ {
:a
s/[[:space:]]+nullok(_secure)?([[:space:]]|$)/\2/
ta
}
