#!/bin/sh
# Runs as root on the machine under audit. OpenSCAP as an auditor would run it: the scanner from
# the machine's own archive, the SCAP Security Guide's Debian content from Debian's package (a
# pinned version, checked against its SHA-256), evaluated live on the running machine.
#
#   openscap.sh prepare VERSION SHA256 DATASTREAM   install the scanner, fetch and unpack the content
#   openscap.sh eval NAME PROFILE [TAILORING]      evaluate; the results stay in $work/NAME.xml
#   openscap.sh fetch VERSION SHA256 DIR           only download the content's package into DIR
#
# A machine that reaches no archive (the VM suite's) gets the package copied into $work before
# prepare, which checks it against the same SHA-256 and does not download it.
#
# eval prints "scanner VERSION", "rule RESULT ID" per rule and "score N" (oscap's default XCCDF
# score).
# COMPLIANCE_DEBIAN_MIRROR names the Debian archive to fetch the content from; by default the
# first Debian archive the machine's apt reads, through apt's own proxy settings.
set -eu

# Kept across reboots: /tmp is a tmpfs on the lab machines (as on many images).
work=/var/tmp/golden-compliance

apt_install() {
	if [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep _Packages)" ]; then
		apt-get update -qq
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# debian_mirror prints the URI of the first Debian archive (not the security one) apt reads.
debian_mirror() {
	# shellcheck disable=SC2016 # $(FIELD) is apt's template syntax, not the shell's.
	apt-get indextargets --format '$(ORIGIN) $(LABEL) $(REPO_URI)' 'Created-By: Packages' |
		awk '$1 == "Debian" && $2 == "Debian" { print $3; exit }'
}

# fetch VERSION SHA256 DIR: the content's package, from the first Debian archive apt reads.
fetch() {
	mirror=${COMPLIANCE_DEBIAN_MIRROR:-$(debian_mirror)}
	[ -n "$mirror" ] || { echo "openscap.sh: apt reads no Debian archive; set COMPLIANCE_DEBIAN_MIRROR" >&2; exit 1; }
	# apt-helper uses apt's proxy and checks the hash before it keeps the file.
	/usr/lib/apt/apt-helper download-file "${mirror%/}/pool/main/s/scap-security-guide/ssg-debian_${1}_all.deb" \
		"$3/ssg-debian_${1}_all.deb" "SHA256:$2" >/dev/null
}

prepare() {
	version=$1 sha256=$2 datastream=$3
	mkdir -p "$work"
	command -v oscap >/dev/null || apt_install openscap-scanner
	content=$work/ssg-debian-$version
	if [ ! -f "$content/$datastream" ]; then
		deb=$work/ssg-debian_${version}_all.deb
		if [ -f "$deb" ]; then
			echo "$sha256  $deb" | sha256sum -c --quiet - >/dev/null ||
				{ echo "openscap.sh: $deb is not the pinned package (SHA-256 $sha256)" >&2; exit 1; }
		else
			fetch "$version" "$sha256" "$work"
		fi
		rm -rf "$content.tmp"
		dpkg-deb -x "$deb" "$content.tmp"
		mkdir -p "$content"
		mv "$content.tmp/usr/share/xml/scap/ssg/content/$datastream" "$content/"
		rm -rf "$content.tmp" "$deb"
	fi
	echo "scanner $(oscap --version | awk 'NR == 1 { print $NF }')"
	echo "content $content/$datastream"
}

evaluate() {
	name=$1 profile=$2 tailoring=${3:-}
	set -- --profile "$profile" --results "$work/$name.xml"
	[ -z "$tailoring" ] || set -- --tailoring-file "$tailoring" "$@"
	rc=0
	oscap xccdf eval "$@" "$(ls "$work"/ssg-debian-*/*-ds.xml | head -n 1)" >"$work/$name.out" 2>&1 || rc=$?
	# 2: the evaluation ran and some rule failed; anything else is the scanner's own failure.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
		cat "$work/$name.out" >&2
		exit "$rc"
	fi
	echo "scanner $(oscap --version | awk 'NR == 1 { print $NF }')"
	# oscap separates its labels from the values with a carriage return and a tab.
	awk '{ gsub(/\r/, " ") } $1 == "Rule" { rule = $2 } $1 == "Result" && rule != "" { print "rule", $2, rule; rule = "" }' "$work/$name.out"
	sed -n 's/.*<score system="urn:xccdf:scoring:default"[^>]*>\([0-9.]*\)<\/score>.*/score \1/p' "$work/$name.xml"
}

case ${1:-} in
prepare) shift && prepare "$@" ;;
eval) shift && evaluate "$@" ;;
fetch) shift && fetch "$@" ;;
*) echo "usage: openscap.sh prepare VERSION SHA256 DATASTREAM | eval NAME PROFILE [TAILORING] | fetch VERSION SHA256 DIR" >&2 && exit 2 ;;
esac
