function sorted(set,   n, i, j, t, a, out) {
	n = 0
	for (t in set) a[++n] = t
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	out = ""
	for (i = 1; i <= n; i++) out = out (i > 1 ? " " : "") a[i]
	return out
}
{ for (i = 2; i <= NF; i++) got[$1, $i] = 1 }
END {
	split("allowusers allowgroups denyusers denygroups", keys, " ")
	split("_au _ag _du _dg", vars, " ")
	rc = 0
	for (k = 1; k <= 4; k++) {
		split("", g); split("", w)
		for (pair in got) { split(pair, kv, SUBSEP); if (kv[1] == keys[k]) g[kv[2]] = 1 }
		n = split(ENVIRON[vars[k]], list, " ")
		for (i = 1; i <= n; i++) w[list[i]] = 1
		have = sorted(g); want = sorted(w)
		print keys[k] ": " (have == "" ? "(none)" : have)
		if (have != want) rc = 1
	}
	exit rc
}
