# /etc/fstab for one mount point. Environment: _op ("get" or "set"), _mp (the mount point),
# _opts (the options it must have, comma separated), _line (the line to add when it has none).
#   get: prints the file system type and options of the first active line of _mp ("TYPE OPTIONS").
#   set: prints the file with _opts added to the options of that line, which keeps its source
#        and type (a partition of the image's own stays one); without a line, _line is appended.
function has(list, o) {
	return index("," list ",", "," o ",") > 0
}
BEGIN {
	op = ENVIRON["_op"]
	mp = ENVIRON["_mp"]
	n = split(ENVIRON["_opts"], want, ",")
}
$1 !~ /^#/ && NF >= 4 && $2 == mp && !done {
	done = 1
	if (op == "get") {
		print $3 " " $4
		exit 0
	}
	o = $4
	for (i = 1; i <= n; i++) {
		if (!has(o, want[i])) o = o "," want[i]
	}
	if (o != $4) $4 = o
	print
	next
}
op == "set" { print }
END {
	if (op == "set" && !done) print ENVIRON["_line"]
}
