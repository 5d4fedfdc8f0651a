	_first=$(awk '{ sub(/^[ \t]+/, "") } $0 != "" && $0 !~ /^#/ { print; exit }' "$_sshd_config")
	g_say "first directive of $_sshd_config: ${_first:-(none)}"
	case $_first in
	[Ii]nclude*" $_ssh_drop_in_match"* | [Ii]nclude*" sshd_config.d/*.conf"*) return 0 ;;
	esac
	return 1
