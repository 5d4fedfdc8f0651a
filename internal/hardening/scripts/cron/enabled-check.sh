if ! { g_pkg_installed cron || g_pkg_installed cronie || g_pkg_installed systemd-cron; }; then g_say "not applicable: cron is not installed"; return 2; fi
_unit=cron
g_unit_exists cron.service || _unit=crond
if g_unit_enabled "$_unit" && g_unit_active "$_unit"; then g_say "$_unit is enabled and active"; return 0; fi
g_say "$_unit: enabled $(systemctl is-enabled "$_unit" 2>&1), active $(systemctl is-active "$_unit" 2>&1)"
return 1
