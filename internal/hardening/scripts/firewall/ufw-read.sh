# shellcheck shell=sh
# A part of the firewall module's checks and fixes: see ufw-run.sh.

# _fw_read: makes sure the state files exist (one ufw process for both).
_fw_read() {
	[ -f "$_fw_status" ] && [ -f "$_fw_added" ] && return 0
	_fw_run "firewall.status:status verbose" "firewall.added:show added" && return 0
	rm -f -- "$_fw_status" "$_fw_added"
	return 1
}
