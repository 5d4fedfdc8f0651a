set -- /etc/sudoers
for _f in /etc/sudoers.d/*; do
	case ${_f##*/} in *.* | *~) continue ;; esac
	if [ -f "$_f" ]; then set -- "$@" "$_f"; fi
done
