	# The SSH port and every allow rule exist by now (the controls before this one): enabling
	# cannot refuse a new SSH connection. Unless no rule lets the build's connection in (the SSH
	# port's fix failed, or firewall.ssh-port is skipped and the other rules do not admit it):
	# then ufw stays off.
	_fw_read || return 1
	_if=""
	if [ -n "$G_SSH_SERVER" ]; then
		_if=$(ip -o addr show to "$G_SSH_SERVER" 2>/dev/null | awk '{ print $2; exit }')
	fi
	if ! _why=$(awk -v port="$G_SSH_PORT" -v client="$G_SSH_CLIENT" -v server="$G_SSH_SERVER" -v iface="$_if" "$_fw_ssh_admitted_awk" "$_fw_added"); then
		echo "ufw is not enabled: it would refuse new SSH connections of the build to port $G_SSH_PORT ($_why)" >&2
		return 1
	fi
	read -r _first <"$_fw_status"
	if [ "$_first" != "Status: active" ]; then
		_fw_change "--force enable" || return 1
	fi
	g_unit_enable ufw
