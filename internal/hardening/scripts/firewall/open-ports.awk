# Reads `ufw show added` (first file), then `ss -Htulnp` (second): every port listening beyond
# loopback must have a rule that names it. Prints one line per port and exits 1 when one has
# none.
#
# One listener needs no rule: the DHCP client's own, on its client port (68/udp, DHCPv6 546/udp)
# and owned by a DHCP client process only. Every EC2 instance has it on its interface, and ufw's
# before.rules already accept the DHCP server's replies to it; a rule would open the port to
# every sender instead.

BEGIN {
	split("dhclient dhcpcd systemd-network NetworkManager udhcpc", names, " ")
	for (i in names) dhcp_client[names[i]] = 1
	dhcp_port["68"] = dhcp_port["546"] = 1
}

FNR == NR { added[++n] = $0; next }

# owners(): the process names of the listener ("" when ss could not name them), space-separated.
function owners(   s, out, q, had) {
	s = $7
	out = ""
	while (match(s, /\(\("[^"]*"|\),\("[^"]*"/)) {
		q = substr(s, RSTART, RLENGTH)
		sub(/^[(),]*"/, "", q)
		sub(/"$/, "", q)
		if (!(q in had)) out = out (out == "" ? "" : " ") q
		had[q] = 1
		s = substr(s, RSTART + RLENGTH)
	}
	return out
}

function dhcp_only(procs,   k, i, p) {
	k = split(procs, p, " ")
	if (k == 0) return 0
	for (i = 1; i <= k; i++) if (!(p[i] in dhcp_client)) return 0
	return 1
}

{
	a = $5; p = a; sub(/.*:/, "", p); h = a; sub(/:[^:]*$/, "", h)
	if (h ~ /^127\./ || h == "[::1]" || h ~ /%lo$/ || h ~ /%lo]$/) next
	procs = owners()
	if ($1 == "udp" && (p in dhcp_port) && dhcp_only(procs)) {
		if (!seen_dhcp[p " " procs]++)
			print p "/udp: the DHCP client (" procs ") on " h "; ufw accepts DHCP replies without a rule"
		next
	}
	if (seen[$1 " " p]++) next
	re = "( " p "/" $1 "| " p "$| port " p "( |$))"
	ok = 0
	for (i = 1; i <= n; i++) if (added[i] ~ re) { ok = 1; break }
	if (ok) print p "/" $1 ": has a rule"
	else { print p "/" $1 ": listening without a ufw rule" (procs == "" ? "" : " (" procs ")") " (add it to firewall.allow, or stop the service)"; rc = 1 }
}

END { exit rc }
