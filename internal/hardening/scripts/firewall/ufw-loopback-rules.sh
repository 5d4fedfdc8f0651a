	_rules="allow in on lo
allow out on lo
deny from 127.0.0.0/8"
	if grep -q '^IPV6=yes' /etc/default/ufw 2>/dev/null; then
		_rules="$_rules
deny from ::1"
	fi
