_unit=cron
g_unit_exists cron.service || _unit=crond
g_unit_enable_now "$_unit"
