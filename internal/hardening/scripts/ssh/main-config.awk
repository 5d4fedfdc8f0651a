# The global section of the main sshd_config, for a setting golden-harden's drop-in makes. sshd
# keeps the first value it reads and reads the drop-ins first, so this line never decides; it
# states the value in force where scanners that read only the main file look (the SCAP Security
# Guide's Debian content among them), and keeps it if the drop-in is ever removed.
#
# Environment: _op ("get" or "set"), _key (the keyword, any case), _val (the value, for set).
#   get: prints the value of the first active global _key line, nothing when there is none.
#   set: prints the file with "_key _val" as the global setting: the first active global line of
#        the keyword replaced, later ones commented out; without one, the line goes before the
#        first Match block, or at the end.
function keyword(s,   w) {
	sub(/^[ \t]+/, "", s)
	if (s == "" || substr(s, 1, 1) == "#") return ""
	split(s, w, /[ \t=]+/)
	return tolower(w[1])
}
function value(s) {
	sub(/^[ \t]+/, "", s)
	sub(/^[^ \t=]+[ \t]*=?[ \t]*/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}
BEGIN {
	op = ENVIRON["_op"]
	k = tolower(ENVIRON["_key"])
	line = ENVIRON["_key"] " " ENVIRON["_val"]
}
{
	kw = keyword($0)
	if (kw == "match") inmatch = 1
	if (op == "get") {
		if (!inmatch && !found && kw == k) {
			print value($0)
			found = 1
		}
		next
	}
	if (kw == "match" && !done) {
		print line
		done = 1
	}
	if (!inmatch && kw == k) {
		if (!done) {
			print line
			done = 1
		} else {
			print "# golden-harden: " $0
		}
		next
	}
	print
}
END {
	if (op == "set" && !done) print line
}
