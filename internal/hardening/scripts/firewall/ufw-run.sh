# shellcheck shell=sh
# The start of the firewall module's checks and fixes (rendered inside a check or fix function,
# after _fw_batch_py, the text of ufw-batch.py). Each ufw call costs a Python start, a new ufw
# frontend and often a probe of the firewall, so the module reads ufw's state once into two files
# of the run's work directory, and every change re-reads it in the same Python process:
#
#   _fw_status, _fw_added   the output of "ufw status verbose" and "ufw show added", always read
#                           by a ufw frontend created after the module's last change
#   _fw_run SPEC...         runs "OUT:COMMAND" specs and "--" separators (see ufw-batch.py)
#
# ufw's Python modules are not a stable interface: when the batch fails in any way, ufw's own
# command line runs every command again, one process each. Every command the module sends can be
# repeated (adding an existing rule, a default policy or enabling twice changes nothing).
# shellcheck disable=SC2154 # _fw_batch_py is set by the lines rendered before this file

_fw_status=$G_WORK_DIR/firewall.status
_fw_added=$G_WORK_DIR/firewall.added
_fw_run() {
	_fw_ufw=$(command -v ufw) || return 1
	_fw_py=""
	if IFS= read -r _fw_l <"$_fw_ufw"; then
		case $_fw_l in
		'#!'*python*) _fw_py=${_fw_l#??} ;;
		esac
	fi
	if [ -n "$_fw_py" ]; then
		# shellcheck disable=SC2086 # the interpreter line may carry arguments
		$_fw_py -c "$_fw_batch_py" "$_fw_ufw" "$G_WORK_DIR" "$@" 2>"$G_WORK_DIR/firewall.batch.err" && return 0
		printf 'ufw through its Python modules failed (%s): running ufw itself\n' \
			"$(tail -n 1 -- "$G_WORK_DIR/firewall.batch.err")" >&2
	fi
	for _fw_s in "$@"; do
		[ "$_fw_s" != -- ] || continue
		_fw_o=${_fw_s%%:*}
		_fw_c=${_fw_s#*:}
		if [ "$_fw_o" = - ]; then
			# shellcheck disable=SC2086 # the command is split into ufw's arguments on purpose
			ufw $_fw_c || return 1
		else
			# shellcheck disable=SC2086
			ufw $_fw_c >"$G_WORK_DIR/$_fw_o" 2>&1 || {
				cat -- "$G_WORK_DIR/$_fw_o" >&2
				return 1
			}
		fi
	done
}
