	if ! g_unit_active auditd; then
		echo "auditd is not running: auditd.conf and the rules apply when it starts"
		return 0
	fi
	# auditd re-reads auditd.conf on SIGHUP; it is never restarted.
	if [ -s /run/auditd.pid ]; then
		kill -HUP "$(cat /run/auditd.pid)" || return 1
	fi
	if [ "$(auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }')" = 2 ]; then
		echo "the loaded rules are immutable until the next boot: the new rules load then"
		return 0
	fi
	# auditctl -R adds to the loaded rules: delete them first (once, whatever the file says), so
	# the kernel holds exactly the file's rules. -e waits for the next boot (see above).
	_live=$G_WORK_DIR/audit-live.rules
	{
		echo -D
		grep -v -e '^-e' -e '^-D' "$_audit_rules"
	} >"$_live"
	if ! _out=$(auditctl -R "$_live" 2>&1); then
		printf 'auditctl -R rejected the rules:\n%s\n' "$_out"
		return 1
	fi
	echo "rules loaded ($(auditctl -l | grep -c .) rules); -e 2 takes effect at the next boot"
