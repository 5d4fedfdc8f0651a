# Purge unless apt would remove more than these packages; then mask (when there are units).
if [ "$_svc_purge" = 1 ]; then
	# shellcheck disable=SC2086 # _pkgs is a list of package names
	_others=$(apt-get -s purge $_pkgs 2>/dev/null | awk -v mine="$_pkgs " '$1 == "Purg" { p = $2; sub(/:.*/, "", p); if (index(mine, " " p " ") == 0) printf " %s", p }')
	if [ -z "$_others" ]; then
		# shellcheck disable=SC2086
		g_pkg_purge $_pkgs
		return
	fi
	if [ -z "$_svc_units" ]; then
		echo "purging$_pkgs would also remove$_others: keep them with services.allow or remove them in an earlier provisioner" >&2
		return 1
	fi
	echo "purging$_pkgs would also remove$_others: masking the services instead" >&2
fi
for _u in $_svc_units; do
	if g_unit_exists "$_u"; then g_unit_mask "$_u" || return 1; fi
done
