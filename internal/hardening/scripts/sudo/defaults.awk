{ sub(/#.*/, "") }
$1 == "Defaults" {
	line = $0
	sub(/^[ \t]*Defaults[ \t]+/, "", line)
	n = split(line, opts, ",")
	for (i = 1; i <= n; i++) {
		o = opts[i]
		gsub(/^[ \t]+|[ \t]+$/, "", o)
		sub(/[ \t]*=[ \t]*/, "=", o)
		if (o == key) { v = "on"; where = where FILENAME ": " o "\n" }
		else if (o == "!" key) { v = "off"; where = where FILENAME ": " o "\n" }
		else if (index(o, key "=") == 1) { v = substr(o, length(key) + 2); gsub(/"/, "", v); where = where FILENAME ": " o "\n" }
	}
}
END { print v; printf "%s", where }
