	if ! g_cmd augenrules; then
		g_say "augenrules is not installed"
		return 1
	fi
	# augenrules --check exits 0 either way: its message tells.
	_out=$(augenrules --check 2>&1)
	case $_out in
	*"No change"*) g_say "$_audit_rules matches $_audit_rules_d" ;;
	*)
		g_say "$_out"
		return 1
		;;
	esac
	if ! g_unit_active auditd; then
		if g_unit_enabled auditd; then
			g_say "auditd is not running here: it loads $_audit_rules when it starts"
			return 3
		fi
		g_say "auditd is neither running nor enabled"
		return 1
	fi
	_disk=$(grep -cE '^-(a|w|A) ' "$_audit_rules")
	_live=$(auditctl -l 2>/dev/null | grep -cE '^-(a|w|A) ')
	if [ "$_disk" = "$_live" ]; then
		g_say "$_live rules loaded, as on disk"
		return 0
	fi
	if [ "$(auditctl -s 2>/dev/null | awk '$1 == "enabled" { print $2 }')" = 2 ]; then
		g_say "$_live rules loaded, $_disk on disk; the loaded rules are immutable: the new ones load at the next boot"
		return 3
	fi
	g_say "$_live rules loaded, $_disk on disk"
	return 1
