# OpenSSH removed protocol 1 from sshd in 7.4 and ignores the Protocol keyword since: sshd speaks
# protocol 2 only on every supported release. Scanners (the SCAP Security Guide's
# sshd_allow_only_protocol2) still read "Protocol 2" in the main sshd_config; that line states
# what is in force, so the check compares the main file with it.
g_say "$(ssh -V 2>&1): protocol 2 only"
_t=$G_WORK_DIR/ssh-protocol.effective
printf 'protocol 2\n' >"$_t"
_op=check _key=Protocol _want=2 _caseless=0 awk "$_ssh_main_awk" "$_t" "$_sshd_config"
