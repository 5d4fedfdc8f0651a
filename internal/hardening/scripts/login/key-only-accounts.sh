#!/bin/sh
# Managed by golden-harden: installed as /usr/local/sbin/golden-key-only-accounts and run at every
# boot by golden-key-only-accounts.service, after cloud-init has created its users.
#
# An account without a usable password (its shadow password field starts with ! or *: the
# default user cloud-init creates with lock_passwd, users from user data, service accounts) logs
# in with keys only, so password ageing has nothing to age. PAM's account stack (pam_unix) still
# enforces the ageing useradd gave the account from login.defs (PASS_MAX_DAYS) and `useradd -D`
# (INACTIVE): once it runs out, key logins, sudo and cron are refused for an account whose
# password nobody can change. This clears the maximum age and the inactivity period of such
# accounts; accounts with a password keep theirs (CIS audits password ageing on accounts with a
# password hash only).
#
# With --check it changes nothing, prints the accounts it would clear and exits 1 when there are
# any.
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
check=0
[ "${1:-}" = --check ] && check=1
# Fields: 2 password, 5 maximum age, 7 inactivity period; empty, -1 and 99999 mean "none".
accounts=$(awk -F: '$2 ~ /^[!*]/ && (($5 != "" && $5 != "-1" && $5 != "99999") || ($7 != "" && $7 != "-1")) { print $1 }' /etc/shadow)
[ -n "$accounts" ] || exit 0
for user in $accounts; do
	if [ "$check" -eq 1 ]; then
		echo "$user: no usable password, but password ageing that will lock its key logins"
		continue
	fi
	chage --maxdays -1 --inactive -1 "$user"
	echo "$user: no usable password: maximum password age and inactivity lock cleared"
done
[ "$check" -eq 0 ]
