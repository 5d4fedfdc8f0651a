BEGIN { n = split(tolower(ENVIRON["_keys"]), ks, " "); for (i = 1; i <= n; i++) k[ks[i]] = 1 }
{
	line = $0
	sub(/^[ \t]+/, "", line)
	n = split(line, w, /[ \t=]+/)
	if (tolower(w[1]) == "match") inmatch = 1
	if (!inmatch && n > 0 && (tolower(w[1]) in k)) { print "# golden-harden: " $0; next }
	print
}
