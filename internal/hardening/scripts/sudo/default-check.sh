_out=$(awk -v key="$_key" "$_sudo_defaults_awk" "$@")
_val=${_out%%"
"*}
case $_out in *"
"*) printf '%s\n' "${_out#*"
"}" ;; esac
g_say "effective Defaults $_key: ${_val:-unset}"
