function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}
# assignment sets K and V from an active "key = value" line and returns 1, else 0.
function assignment(line,   p, s, d) {
	line = trim(line)
	if (line == "" || line ~ /^[#;]/) return 0
	p = index(line, "=")
	if (!p) return 0
	K = trim(substr(line, 1, p - 1)); V = trim(substr(line, p + 1))
	sub(/^-/, "", K)
	s = index(K, "/"); d = index(K, ".")
	if (s && (!d || s < d)) gsub("/", ".", K)
	gsub(/[ \t]+/, " ", V)
	return 1
}
function say(s) { print s }
BEGIN {
	op = ENVIRON["_op"]; ours = ENVIRON["_ours"]
	oursName = ours; sub(/.*\//, "", oursName)
	n = split(ENVIRON["_want"], wl, "\n")
	nk = 0
	for (i = 1; i <= n; i++) {
		p = index(wl[i], "=")
		if (!p) continue
		nk++; key[nk] = substr(wl[i], 1, p - 1); want[key[nk]] = substr(wl[i], p + 1)
	}
	# The running values; vectors (tcp_rmem) are tab-separated in /proc, one space apart here.
	n = split(ENVIRON["_keys"], kl, "\n")
	for (i = 1; i <= n; i++) {
		if (split(kl[i], f, "\t") != 3) continue
		access[f[1]] = f[2]; path[f[1]] = f[3]
		if (f[2] == "absent") continue
		v = ""
		if ((getline v < f[3]) < 0) access[f[1]] = "absent"
		close(f[3])
		gsub(/[ \t]+/, " ", v); live[f[1]] = trim(v)
	}
	n = split(ENVIRON["_overridden"], ov, " ")
	for (i = 1; i <= n; i++) overridden[ov[i]] = 1

	# Our file (read from _read when set: the pending copy of the module): every active
	# assignment of a key must have the wanted value.
	src = ENVIRON["_read"] != "" ? ENVIRON["_read"] : ours
	exists = 0; nl = 0
	while ((getline line < src) > 0) {
		exists = 1; nl++; text[nl] = line; kind[nl] = ""
		if (!assignment(line) || !(K in want) || want[K] == "") continue
		if (K in seen) { kind[nl] = "dup"; bad[K] = 1 }
		else { seen[K] = 1; kind[nl] = K }
		if (V != want[K]) bad[K] = 1
	}
	close(src)

	# The other files: contradicting assignments.
	nc = 0
	n = split(ENVIRON["_files"], fl, "\n")
	for (i = 1; i <= n; i++) {
		if (fl[i] == "") continue
		file = substr(fl[i], 3)
		if (substr(fl[i], 1, 1) == "L") {
			name = file; sub(/.*\//, "", name)
			if ((name "") <= (oursName "")) continue
		}
		ln = 0
		while ((getline line < file) > 0) {
			ln++
			if (assignment(line) && (K in want) && want[K] != "" && want[K] != V)
				conflict[++nc] = file ":" ln ": " K " = " V
		}
		close(file)
	}

	if (op == "fix") {
		out = ENVIRON["_new"]
		if (!exists) print "# golden-harden: kernel parameters (CIS 1.5, 3.3). UFW applies this file too (IPT_SYSCTL)." > out
		for (i = 1; i <= nl; i++) {
			if (kind[i] == "") print text[i] > out
			else if (kind[i] == "dup") print "# " text[i] > out
			else print kind[i] " = " want[kind[i]] > out
		}
		for (i = 1; i <= nk; i++) if (want[key[i]] != "" && !(key[i] in seen)) print key[i] " = " want[key[i]] > out
		close(out)
		for (i = 1; i <= nk; i++) {
			k = key[i]
			if (want[k] != "" && access[k] == "rw" && live[k] != want[k]) print "set " k "=" want[k]
		}
		for (i = 1; i <= nc; i++) print "conflict " conflict[i]
		exit 0
	}

	rc = 0; nextboot = 0; managed = 0
	for (i = 1; i <= nk; i++) {
		k = key[i]; v = want[k]
		if (v == "") { say(k ": left as it is (sysctl.router)"); continue }
		if (k in overridden) say(k ": value " v " set by sysctl.overrides")
		fileOK = (k in seen) && !(k in bad)
		if (k ~ /\*/) {
			managed++
			if (fileOK) say(k " = " v " in " ours " (a glob: applied by systemd-sysctl at boot)")
			else { say(ours ": " k " is not " v); rc = 1 }
			continue
		}
		if (!(k in access) || access[k] == "absent") { say(k ": not present in this kernel"); continue }
		managed++
		if (!fileOK) { say(ours ": " k " is not " v); rc = 1 }
		if (live[k] == v) say(k " = " live[k])
		else if (access[k] == "rw") { say(k " = " live[k] " (want " v ")"); rc = 1 }
		else { say(k " = " live[k] " (want " v "; read-only here, " ours " sets it at the next boot)"); nextboot = 1 }
	}
	if (managed == 0) { say("no parameter of this control applies here"); exit 2 }
	if (nc > 0) {
		say("contradicting assignments:")
		for (i = 1; i <= nc; i++) say(conflict[i])
		rc = 1
	}
	exit (rc == 0 && nextboot ? 3 : rc)
}
