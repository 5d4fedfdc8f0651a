# shellcheck disable=SC2086 # _pam_profiles is a list of profile names
_pam_out=$(DEBIAN_FRONTEND=noninteractive pam-auth-update --enable $_pam_profiles 2>&1) || { printf '%s\n' "$_pam_out" >&2; return 1; }
case $_pam_out in
*"not updating"*) printf 'pam-auth-update refused: %s\n' "$_pam_out" >&2; return 1 ;;
esac
