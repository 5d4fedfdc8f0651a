BEGIN { n = split(ENVIRON["_rules"], want, "\n") }
{ have[$0] = 1 }
END {
	rc = 0
	for (i = 1; i <= n; i++) {
		if (want[i] == "") continue
		if (("ufw " want[i]) in have) print "ufw " want[i]
		else { print "missing: ufw " want[i]; rc = 1 }
	}
	exit rc
}
