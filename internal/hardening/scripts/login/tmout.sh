printf '%s\n' '# Managed by golden-harden: idle interactive shells exit (CIS 5.4.3.2).' \
	"if [ \"\${TMOUT:-0}\" -gt 0 ] 2>/dev/null && [ \"\$TMOUT\" -le $LOGIN_SHELL_TIMEOUT ]; then :; else TMOUT=$LOGIN_SHELL_TIMEOUT; fi" \
	'readonly TMOUT' 'export TMOUT'
