#!/bin/sh
# Runs as root on the machine under audit: what the scanners cannot see inside a container but the
# machine's boot configuration decides. Prints
#
#   virt KIND                 systemd-detect-virt --container ("none" on a VM or bare metal)
#   unit NAME STATE           systemctl is-enabled NAME, for the daemons a container cannot run
#   sysctl KEY VALUE          the value systemd-sysctl sets at boot (the last one its files give)
set -u

echo "virt $(systemd-detect-virt --container 2>/dev/null || true)"
for u in auditd; do
	echo "unit $u $(systemctl is-enabled "$u" 2>/dev/null || echo absent)"
done
sysctl_bin=/usr/lib/systemd/systemd-sysctl
[ -x "$sysctl_bin" ] || sysctl_bin=/lib/systemd/systemd-sysctl
"$sysctl_bin" --cat-config 2>/dev/null | awk '
/^[ \t]*[#;]/ || !/=/ { next }
{
	line = $0
	sub(/^[ \t]*-/, "", line)
	k = line; sub(/[ \t]*=.*/, "", k); sub(/^[ \t]+/, "", k); gsub("/", ".", k)
	v = line; sub(/^[^=]*=[ \t]*/, "", v); sub(/[ \t]+$/, "", v)
	if (k !~ /\*/) val[k] = v
}
END { for (k in val) print "sysctl", k, val[k] }' | sort
