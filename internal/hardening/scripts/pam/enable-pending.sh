# The profiles the module's fixes asked for (pam/auth-update-defer.sh), to enable in one run.
# The list is removed as it is read: after a rollback the Finalize runs again and must not
# enable them.
_pam_profiles=
if [ -s "$G_WORK_DIR/$_pam_pending" ]; then
	_pam_profiles=$(sort -u "$G_WORK_DIR/$_pam_pending" | tr '\n' ' ')
	_pam_profiles=${_pam_profiles% }
	rm -f -- "$G_WORK_DIR/$_pam_pending"
fi
