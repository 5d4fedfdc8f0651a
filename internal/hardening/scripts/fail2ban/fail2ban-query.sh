	printf 'status sshd\nget sshd maxretry\nget sshd findtime\nget sshd bantime\nexit\n' |
		fail2ban-client -i 2>/dev/null
