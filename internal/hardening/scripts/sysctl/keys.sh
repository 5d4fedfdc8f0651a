	_keys=""
	while IFS='=' read -r _k _v; do
		[ -n "$_k" ] || continue
		[ -n "$_v" ] || continue
		case $_k in *'*'*) continue ;; esac
		_p=/proc/sys
		_r=$_k
		while :; do
			case $_r in
			*.*)
				_p=$_p/${_r%%.*}
				_r=${_r#*.}
				;;
			*)
				_p=$_p/$_r
				break
				;;
			esac
		done
		if [ ! -e "$_p" ]; then
			_a=absent
		elif [ -w "$_p" ]; then
			_a=rw
		else
			_a=ro
		fi
		_keys="$_keys$_k	$_a	$_p
"
	done <<EOF
$_want
EOF
