_ko=0
if g_file_is "$_ko_script_path" "$_ko_script" && [ -x "$_ko_script_path" ] &&
	g_file_is "$_ko_unit_path" "$_ko_unit" && [ -L "$_ko_wants_path" ]; then
	g_say "accounts without a password are exempt from password ageing at every boot (golden-key-only-accounts.service)"
else
	g_say "golden-key-only-accounts.service is missing, differs or is not enabled: an account created later without a password (cloud-init's default user) loses its key logins and sudo when this ageing runs out"
	_ko=1
fi
if ! printf '%s\n' "$_ko_script" | sh -s -- --check; then _ko=1; fi
