	_want=$(
		echo '## golden-harden: Ensure use of privileged commands is collected'
		find / -xdev \( -perm -4000 -o -perm -2000 \) -type f 2>/dev/null | grep -v '[[:space:]]' | sort |
			awk '{ print "-a always,exit -F path=" $0 " -F perm=x -F auid>=1000 -F auid!=unset -k privileged" }'
	)
