# The profiles are enabled by the module's Finalize, in one pam-auth-update run for every fix
# that asked (pam/enable-pending.sh): pam-auth-update is a Perl program that regenerates every
# common-* file, and a cis run would start it once per control. The state it rewrites is backed
# up now, while this control is the one changing it.
# shellcheck disable=SC2086 # _pam_profiles is a list of profile names
printf '%s\n' $_pam_profiles >>"$G_WORK_DIR/$_pam_pending"
