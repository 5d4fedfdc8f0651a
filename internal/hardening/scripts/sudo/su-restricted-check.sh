if [ ! -f /etc/pam.d/su ]; then g_say "not applicable: no /etc/pam.d/su"; return 2; fi
_rc=0
if awk -v g="group=$SUDO_SU_GROUP" '/^[[:space:]]*#/ { next }
$1 == "auth" && ($2 == "required" || $2 == "requisite") && $3 == "pam_wheel.so" {
	u = 0; k = 0
	for (i = 4; i <= NF; i++) { if ($i == "use_uid") u = 1; if ($i == g) k = 1 }
	if (u && k) found = 1
}
END { exit !found }' /etc/pam.d/su; then
	g_say "/etc/pam.d/su: auth required pam_wheel.so use_uid group=$SUDO_SU_GROUP"
else
	g_say "/etc/pam.d/su: no 'auth required pam_wheel.so use_uid group=$SUDO_SU_GROUP'"
	_rc=1
fi
if _members=$(getent group "$SUDO_SU_GROUP"); then
	_members=${_members##*:}
	g_say "group $SUDO_SU_GROUP exists, members: ${_members:-none}"
else
	g_say "group $SUDO_SU_GROUP does not exist"
	_rc=1
fi
return $_rc
