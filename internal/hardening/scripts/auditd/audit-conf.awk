function setting(line,   k) {
	if (!index(line, "=")) return ""
	k = line; sub(/=.*/, "", k); gsub(/[ \t]/, "", k)
	return k
}
BEGIN {
	n = split(ENVIRON["_pairs"], pairs, " ")
	for (i = 1; i <= n; i++) {
		c = index(pairs[i], ":"); key[i] = substr(pairs[i], 1, c - 1); want[key[i]] = substr(pairs[i], c + 1)
	}
}
FNR == NR {
	k = setting($0)
	if ((k in want) && !(k in got)) {
		v = substr($0, index($0, "=") + 1); sub(/=.*/, "", v); gsub(/^[ \t]+|[ \t]+$/, "", v)
		got[k] = tolower(v)
	}
	if (op == "fix") next
}
op == "fix" {
	k = setting($0)
	if ((k in want) && got[k] != want[k]) {
		if (!(k in done)) print k " = " want[k]
		else print "# " $0
		done[k] = 1
		next
	}
	print
}
END {
	rc = 0
	for (i = 1; i <= n; i++) {
		k = key[i]
		if (op == "fix") {
			if (got[k] != want[k] && !(k in done)) print k " = " want[k]
			continue
		}
		print k " = " (k in got ? got[k] : "(unset)")
		if (got[k] != want[k]) rc = 1
	}
	exit rc
}
