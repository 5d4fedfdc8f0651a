# shellcheck shell=sh
# A part of the firewall module's checks and fixes: see ufw-run.sh.

# _fw_change CMD...: runs ufw commands in order with one frontend, then re-reads the state with
# a new one.
_fw_change() {
	rm -f -- "$_fw_status" "$_fw_added"
	_fw_n=$#
	for _fw_c in "$@"; do
		set -- "$@" "-:$_fw_c"
	done
	shift "$_fw_n"
	_fw_run "$@" -- "firewall.status:status verbose" "firewall.added:show added" && return 0
	rm -f -- "$_fw_status" "$_fw_added"
	return 1
}
