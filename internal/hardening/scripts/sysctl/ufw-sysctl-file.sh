	_ufwf=""
	if [ -f /etc/default/ufw ]; then
		while read -r _l; do
			case $_l in IPT_SYSCTL=*) _ufwf=${_l#IPT_SYSCTL=} ;; esac
		done </etc/default/ufw
		_ufwf=${_ufwf#[\"\']}
		_ufwf=${_ufwf%[\"\']}
	fi
