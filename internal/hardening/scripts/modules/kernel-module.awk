BEGIN {
	n = split(mods, m, " ")
	for (i = 1; i <= n; i++) {
		u[i] = m[i]; gsub(/-/, "_", u[i])
		name = m[i]; gsub(/[-_]/, "[-_]", name)
		re[i] = "^[ \t]*install[ \t]+" name "([ \t]|$)"
	}
}
FILENAME == conf {
	for (i = 1; i <= n; i++) {
		if ($0 == "install " m[i] " /bin/false") inst[i] = 1
		if ($0 == "blacklist " m[i]) bl[i] = 1
	}
	next
}
FILENAME == modules {
	for (i = 1; i <= n; i++) if ($1 == u[i]) loaded[i] = 1
	next
}
{ for (i = 1; i <= n; i++) if ($0 ~ re[i]) other[i] = other[i] "\n" FILENAME ":" FNR ":" $0 }
END {
	rc = 0; nextboot = 0
	for (i = 1; i <= n; i++) {
		if (inst[i] && bl[i]) print conf ": install " m[i] " /bin/false, blacklist " m[i]
		else { print conf ": lacks install " m[i] " /bin/false and blacklist " m[i]; rc = 1 }
		if (other[i] != "") { print "other install commands for " m[i] ":" other[i]; rc = 1 }
		if (!loaded[i]) continue
		if (container == 1) {
			print m[i] " is loaded in the host kernel (this is a container): unavailable from the next boot on"
			nextboot = 1
		} else { print m[i] " is loaded"; rc = 1 }
	}
	exit rc ? 1 : (nextboot ? 3 : 0)
}
