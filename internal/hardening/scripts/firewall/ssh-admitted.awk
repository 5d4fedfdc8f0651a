# Reads `ufw show added` and decides whether ufw, once enabled, lets the build's SSH connection
# in: the first user rule that matches the connection decides, as in ufw's chains; it is printed,
# and the exit status is 0 when it allows (allow, limit), 1 when it denies or when no rule
# matches (the default incoming policy denies).
#
# Variables (-v): port, the SSH port; client and server, the connection's addresses (from
# SSH_CONNECTION; empty when unknown); iface, the interface that holds the server address (empty
# when unknown). Unknown values match only rules that do not restrict them.
#
# A rule matches when it is inbound, on no interface or on iface, from anywhere or from a network
# holding client, to anywhere or to a network holding server, for TCP (or every protocol) and
# for a destination port list or range holding port, from any source port. Application profiles
# and route rules never match: what they admit is not known here.

function ip4(a,   n, p, i, v) {
	n = split(a, p, ".")
	if (n != 4) return -1
	v = 0
	for (i = 1; i <= 4; i++) {
		if (p[i] !~ /^[0-9]+$/ || p[i] + 0 > 255) return -1
		v = v * 256 + p[i]
	}
	return v
}

# holds(net, addr): net is "any", an address or a CIDR network; addr an address or "".
function holds(net, addr,   slash, bits, base, a, span) {
	if (net == "any") return 1
	if (addr == "") return 0
	slash = index(net, "/")
	if (!slash) return net == addr
	bits = substr(net, slash + 1) + 0
	base = ip4(substr(net, 1, slash - 1))
	a = ip4(addr)
	if (base < 0 || a < 0) return substr(net, 1, slash - 1) == addr && (bits == 128 || bits == 32)
	span = 2 ^ (32 - bits)
	return int(base / span) == int(a / span)
}

# ports_hold(list): list is "22", "22,2222" or "2000:2300" items.
function ports_hold(list,   n, items, i, lo, hi, c) {
	n = split(list, items, ",")
	for (i = 1; i <= n; i++) {
		c = index(items[i], ":")
		if (c) {
			lo = substr(items[i], 1, c - 1) + 0
			hi = substr(items[i], c + 1) + 0
		} else {
			lo = hi = items[i] + 0
		}
		if (items[i] ~ /^[0-9:]+$/ && lo <= port + 0 && port + 0 <= hi) return 1
	}
	return 0
}

# matches(): the current line, split in $1..$NF, matches the build's connection.
function matches(   i, action, src, dst, dport, proto, ifin, spec, slash) {
	if ($1 != "ufw" || $2 == "route") return 0
	src = "any"; dst = "any"; dport = ""; proto = "any"; ifin = ""
	i = 3
	if ($i == "in" && $(i + 1) == "on") { ifin = $(i + 2); i += 3 }
	if ($i == "out") return 0
	if ($i == "log" || $i == "log-all") i++
	if (i > NF) {
		dport = "1:65535" # everything, on one interface: "ufw allow in on lo"
	} else if ($i != "from" && $i != "to") {
		# The short form: PORTS[/PROTO] or an application profile.
		spec = $i
		slash = index(spec, "/")
		if (slash) { proto = substr(spec, slash + 1); spec = substr(spec, 1, slash - 1) }
		if (spec !~ /^[0-9][0-9,:]*$/) return 0
		dport = spec
	} else {
		for (; i <= NF; i++) {
			if ($i == "comment") break
			if ($i == "from") {
				src = $(++i)
				if ($(i + 1) == "port" || $(i + 1) == "app") return 0
			} else if ($i == "to") {
				dst = $(++i)
				if ($(i + 1) == "app") return 0
				if ($(i + 1) == "port") { i += 2; dport = $i }
			} else if ($i == "proto") {
				proto = $(++i)
			}
		}
		if (dport == "") dport = "1:65535"
	}
	if (ifin != "" && ifin != iface) return 0
	if (proto != "any" && proto != "tcp") return 0
	return holds(src, client) && holds(dst, server) && ports_hold(dport)
}

$1 == "ufw" && matches() {
	print
	found = 1
	exit ($2 == "allow" || $2 == "limit") ? 0 : 1
}

END {
	if (!found) {
		printf "no rule lets %s:%s/tcp in from %s%s\n", server == "" ? "any address" : server, port,
			client == "" ? "an unknown client" : client, iface == "" ? "" : " on " iface
		exit 1
	}
}
