	printf '# golden-harden: no LLMNR or multicast DNS responder on the network (CIS 2.1.22)\n[Resolve]\nLLMNR=no\nMulticastDNS=no\n' |
		g_write_file "$_resolved_drop_in" 0644 root:root || return 1
	systemctl try-restart systemd-resolved.service
