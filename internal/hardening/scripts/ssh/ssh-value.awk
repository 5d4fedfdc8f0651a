$1 == k { $1 = ""; sub(/^ /, ""); got = $0; found = 1; exit }
END {
	want = ENVIRON["_want"]
	print name " " (found ? got : "(not set)") " (want " want ")"
	if (caseless) { got = tolower(got); want = tolower(want) }
	# sshd -T prints PermitRootLogin prohibit-password under its older name.
	if (k == "permitrootlogin" && want == "prohibit-password") want = "without-password"
	exit got == want ? 0 : 1
}
