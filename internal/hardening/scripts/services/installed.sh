_pkgs=""
_allowed=""
# shellcheck disable=SC2086 # _svc_pkgs is a list of package names
g_pkg_present $_svc_pkgs
for _p in $_g_pp; do
	case " $SERVICES_ALLOW " in
	*" $_p "*) _allowed="$_allowed $_p" ;;
	*) _pkgs="$_pkgs $_p" ;;
	esac
done
