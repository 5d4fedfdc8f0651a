# Reads `systemd-analyze cat-config systemd/resolved.conf` (first file), then `resolvectl status`
# (second, empty when systemd-resolved does not run): whether systemd-resolved answers LLMNR or
# multicast DNS queries from the network (UDP and TCP 5355, UDP 5353 on every interface). Prints
# one line per protocol and exits 1 when one answers, or when neither the configuration nor the
# running daemon says.
#
# The configuration decides when it sets the protocol in [Resolve] (the last setting wins); left
# out, the compiled default applies, which differs between distributions (Debian's answers LLMNR,
# Ubuntu's does not) and only the running daemon shows: the Protocols line of its global section,
# e.g. "Protocols: +LLMNR -mDNS -DNSOverTLS DNSSEC=no/unsupported". A link's own setting can only
# narrow the global one.

BEGIN {
	proto[1] = "LLMNR"; live_name["LLMNR"] = "LLMNR"
	proto[2] = "MulticastDNS"; live_name["MulticastDNS"] = "mDNS"
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t\r]+$/, "", s)
	return s
}

FILENAME == ARGV[1] {
	line = trim($0)
	if (line ~ /^[#;]/ || line == "") next
	if (line ~ /^\[/) { section = line; next }
	if (section != "[Resolve]") next
	eq = index(line, "=")
	if (!eq) next
	key = trim(substr(line, 1, eq - 1))
	if (key == "LLMNR" || key == "MulticastDNS") conf[key] = tolower(trim(substr(line, eq + 1)))
	next
}

# The global section comes first; its Protocols line is the first one.
!seen_protocols && $1 == "Protocols:" {
	seen_protocols = 1
	for (i = 2; i <= NF; i++) live[$i] = 1
}

END {
	rc = 0
	for (i = 1; i <= 2; i++) {
		p = proto[i]
		if (p in conf) {
			v = conf[p]
			if (v == "yes" || v == "true" || v == "on" || v == "1") {
				print p "=" v ": answers queries from the network"
				rc = 1
			} else {
				print p "=" v
			}
			continue
		}
		if (("+" live_name[p]) in live) {
			print p ": answers queries from the network (the compiled default: not set in resolved.conf)"
			rc = 1
		} else if (("-" live_name[p]) in live) {
			print p ": off (the compiled default)"
		} else {
			print p ": not set in resolved.conf, and systemd-resolved does not say (not running)"
			rc = 1
		}
	}
	exit rc
}
