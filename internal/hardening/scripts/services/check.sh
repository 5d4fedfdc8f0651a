if [ -n "$_allowed" ]; then g_say "kept by services.allow:$_allowed"; fi
if [ -z "$_pkgs" ]; then
	if [ -n "$_allowed" ]; then return 2; fi
	g_say "not installed: $_svc_pkgs"
	return 0
fi
g_say "installed:$_pkgs"
[ -n "$_svc_units" ] || return 1
# Installed is compliant (as in the benchmark's audit) only when no existing unit is enabled or
# active and, for a package that should have been purged, there was a unit to look at.
_n=0
_rc=0
for _u in $_svc_units; do
	g_unit_exists "$_u" || continue
	_n=$((_n + 1))
	_state="$(systemctl is-enabled "$_u" 2>/dev/null), $(systemctl is-active "$_u" 2>/dev/null)"
	g_say "$_u: $_state"
	case $_state in
	enabled,* | enabled-runtime,* | *", active" | *", activating" | *", reloading") _rc=1 ;;
	esac
done
if [ "$_n" -eq 0 ]; then
	if [ "$_svc_purge" = 1 ]; then _rc=1; else g_say "no service unit to run it"; fi
fi
return $_rc
