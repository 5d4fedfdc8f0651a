/^fail2ban> / { n++; sub(/^fail2ban> /, "") }
n > 0 { answer[n] = answer[n] == "" ? $0 : answer[n] "\n" $0 }
END {
	if (answer[1] !~ /^Status for the jail: sshd/) {
		print "the sshd jail is not running"
		exit 1
	}
	rc = 0
	if (match(answer[1], /Journal matches:[^\n]*/)) {
		m = substr(answer[1], RSTART + 16, RLENGTH - 16); gsub(/^[ \t]+|[ \t]+$/, "", m)
	}
	if (m != "") {
		print "the sshd jail reads the journal: " m
		if (journal != "") printf "" > journal
	} else { print "the sshd jail does not read the systemd journal"; rc = 1 }
	split("maxretry findtime bantime", names, " ")
	want["maxretry"] = maxretry; want["findtime"] = findtime; want["bantime"] = bantime
	for (i = 1; i <= 3; i++) {
		got = answer[i + 1]; gsub(/^[ \t\n]+|[ \t\n]+$/, "", got)
		print "jail sshd " names[i] " = " got
		if (got != want[names[i]]) rc = 1
	}
	exit rc
}
