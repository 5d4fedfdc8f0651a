	_in=""
	_out=""
	_fwd=""
	while read -r _l; do
		case $_l in
		DEFAULT_INPUT_POLICY=*) _in=${_l#*=} ;;
		DEFAULT_OUTPUT_POLICY=*) _out=${_l#*=} ;;
		DEFAULT_FORWARD_POLICY=*) _fwd=${_l#*=} ;;
		esac
	done </etc/default/ufw
	_in=${_in#\"}
	_in=${_in%\"}
	_out=${_out#\"}
	_out=${_out%\"}
	_fwd=${_fwd#\"}
	_fwd=${_fwd%\"}
