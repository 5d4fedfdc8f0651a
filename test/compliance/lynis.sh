#!/bin/sh
# Runs as root on the machine under audit: Lynis from the machine's own archive audits it where it
# runs (`lynis audit system --quick`). `lynis.sh install` only installs it. Prints, from Lynis' log
# and report:
#
#   scanner VERSION                  lynis --version
#   index N                          the hardening index Lynis reports
#   hp TEST GOT MAX KEY EXPECTED     every hardening-point award; KEY and EXPECTED name the sysctl
#                                    key of a KRNL-6000 award ("-" otherwise)
#   result TEST TEXT                 every result line of the log, for the tests without a suggestion
#   suggestion TEST TEXT / warning TEST TEXT
set -eu

if ! command -v lynis >/dev/null; then
	if [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep _Packages)" ]; then
		apt-get update -qq
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lynis >/dev/null
fi
[ "${1:-}" != install ] || exit 0
log=/var/log/lynis.log
report=/var/log/lynis-report.dat
lynis audit system --quick --no-colors --logfile "$log" --report-file "$report" >/dev/null 2>&1

echo "scanner $(lynis --version 2>/dev/null | awk 'NR == 1 { print $NF }')"
sed -n 's/^hardening_index=/index /p' "$report"
awk '
/Performing test ID / { t = $0; sub(/.*Performing test ID /, "", t); sub(/ .*/, "", t); key = "-"; want = "-" }
/Result: / { r = $0; sub(/.*Result: /, "", r); print "result", t, r }
/Result: sysctl key / {
	key = $0; sub(/.*sysctl key /, "", key); sub(/ .*/, "", key)
	want = "-"
	if (match($0, /Expected=[^,]*/)) want = substr($0, RSTART + 9, RLENGTH - 9)
	else if (match($0, /current value \([^)]*\)/)) { want = substr($0, RSTART + 15, RLENGTH - 16); gsub(/ /, ",", want) }
}
/Hardening: assigned / {
	if (match($0, /\([0-9]+ of [0-9]+\)/)) { split(substr($0, RSTART + 1, RLENGTH - 2), p, " of "); got = p[1]; max = p[2] }
	else if (match($0, /this item \([0-9]+\)/)) { got = substr($0, RSTART + 11, RLENGTH - 12); max = got }
	else next
	print "hp", t, got, max, (t == "KRNL-6000" ? key : "-"), (t == "KRNL-6000" ? want : "-")
}' "$log"
# suggestion[]=TEST|TEXT|DETAILS|SOLUTION|: the details say which setting, when Lynis names one.
awk -F'|' '/^(suggestion|warning)\[\]=/ {
	kind = $1; sub(/\[\]=.*/, "", kind); id = $1; sub(/.*=/, "", id)
	print kind, id, $2 ($3 != "" && $3 != "-" ? " (" $3 ")" : "")
}' "$report"
