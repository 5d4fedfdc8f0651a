_want=$LOGIN_ENCRYPT_METHOD
if [ "$_want" = auto ]; then
	if grep -q YESCRYPT_COST_FACTOR /usr/sbin/chpasswd 2>/dev/null; then _want=YESCRYPT; else _want=SHA512; fi
fi
