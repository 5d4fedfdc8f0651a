function verdict(v) {
	if (op == "ge") return v ~ /^[0-9]+$/ && v + 0 >= want + 0
	if (op == "le") return v ~ /^[0-9]+$/ && v + 0 >= 1 && v + 0 <= want + 0
	if (op == "zero_or_ge") return v ~ /^[0-9]+$/ && (v + 0 == 0 || v + 0 >= want + 0)
	if (op == "nonzero") return v != "0"
	if (op == "eq") return v == want
	return op == "flag"
}
function note(v) {
	seen = 1
	if (verdict(v)) good = good FILENAME ": " key " " v "\n"
	else bad = bad FILENAME ": " key " " v " (wanted " op " " want ")\n"
}
{ sub(/#.*/, "") }
FILENAME ~ /^\/etc\/pam\.d\// {
	if (mod == "" || index($0, mod) == 0) next
	for (i = 1; i <= NF; i++) {
		if ($i == key) note("")
		else if (index($i, key "=") == 1) note(substr($i, length(key) + 2))
	}
	next
}
$1 == key || index($1, key "=") == 1 {
	v = $0
	sub("^[ \t]*" key "[ \t]*", "", v)
	sub(/^=[ \t]*/, "", v)
	sub(/[ \t]+$/, "", v)
	note(v)
}
END {
	printf "%s%s", good, bad
	if (bad != "") exit 1
	if (seen) exit 0
	if (op == "nonzero") { print key ": not set (enabled by default)"; exit 0 }
	print key ": not set"
	exit 1
}
