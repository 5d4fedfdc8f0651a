# The global section of the main sshd_config, for a setting golden-harden's drop-in makes. sshd
# keeps the first value it reads and reads the drop-ins first, so this line never decides; it
# states the value in force where scanners that read only the main file look (the SCAP Security
# Guide's Debian content among them), and keeps it if the drop-in is ever removed.
#
# Environment: _op ("check" or "set"), _key (the keyword, any case), _val (the value, for set),
# _want and _caseless (for check).
#   check: reads the effective configuration (`sshd -T` output) and then the main file, prints
#        what each says and exits 0 when the setting in force is _want (compared in any case when
#        _caseless is 1) and the first active global _key line of the main file states it too.
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
# sshd -T prints one "keyword value" line per setting, the keyword in lower case.
op == "check" && FILENAME == ARGV[1] {
	if ($1 == k && !efound) {
		$1 = ""
		sub(/^ /, "")
		eff = $0
		efound = 1
	}
	next
}
{
	kw = keyword($0)
	if (kw == "match") inmatch = 1
	if (op == "check") {
		if (!inmatch && !found && kw == k) {
			main = value($0)
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
	if (op != "check") exit 0
	want = ENVIRON["_want"]
	print ENVIRON["_key"] " " (efound ? eff : "(not set)") " (want " want ")"
	got = eff
	stated = main
	if (ENVIRON["_caseless"] == 1) {
		got = tolower(got)
		want = tolower(want)
		stated = tolower(stated)
	}
	# sshd -T prints PermitRootLogin prohibit-password under its older name.
	if (got != want && !(k == "permitrootlogin" && want == "prohibit-password" && got == "without-password")) exit 1
	if (stated != want) {
		print ARGV[2] ": " ENVIRON["_key"] " " (main != "" ? main : "(not set)") ": the value in force is not stated where scanners reading only this file look"
		exit 1
	}
	print ARGV[2] ": " ENVIRON["_key"] " " main ", as in force"
}
