set -f
_scan=$G_WORK_DIR/files-scan
if [ ! -f "$_scan.rc" ]; then
	set -- /
	while read -r _dev _mnt _type _rest; do
		case $_type in
		ext2 | ext3 | ext4 | xfs | btrfs | jfs | reiserfs | f2fs | zfs | vfat | exfat) ;;
		*) continue ;;
		esac
		case $_mnt in
		/ | /proc | /proc/* | /sys | /sys/* | /run | /run/* | /dev | /dev/*) continue ;;
		esac
		case " $* " in
		*" $_mnt "*) ;;
		*) [ -d "$_mnt" ] && set -- "$@" "$_mnt" ;;
		esac
	done </proc/self/mounts
	_prune='-path /proc -o -path /sys -o -path /run -o -path /dev'
	for _x in $FILES_SCAN_EXCLUDE; do _prune="$_prune -o -path $_x"; done
	_ids=$(awk -F: '$3 ~ /^[0-9]+$/ { if (FILENAME == "/etc/passwd") u = u " -o -uid " $3; else g = g " -o -gid " $3 }
		END { print "-false" u " , -false" g }' /etc/passwd /etc/group 2>/dev/null) || _ids='-false , -false'
	_uids=${_ids%% , *}
	_gids=${_ids#* , }
	# shellcheck disable=SC2086 # _prune, _uids and _gids are lists of find words
	timeout "$FILES_SCAN_TIMEOUT" find "$@" -xdev \( $_prune \) -prune -o \
		\( \( -type f -perm -0002 -o -type d -perm -0002 ! -perm -1000 \) -printf 'W %p\n' \) , \
		\( \( ! \( $_uids \) -o ! \( $_gids \) \) -printf 'O %U %G %p\n' \) >"$_scan" 2>/dev/null
	echo "$?" >"$_scan.rc"
	echo "$*" >"$_scan.roots"
	: >"$_scan.W"
	: >"$_scan.U"
	if [ -s "$_scan" ]; then
		awk -v base="$_scan" '$1 == "W" { print substr($0, 3) >(base ".W.all"); next }
			{ print >(base ".O"); u[$2] = 1; g[$3] = 1 }
			END { for (i in u) printf " %s", i >(base ".uids"); for (i in g) printf " %s", i >(base ".gids") }' "$_scan"
		if [ -f "$_scan.O" ]; then
			read -r _u <"$_scan.uids"
			read -r _g <"$_scan.gids"
			# shellcheck disable=SC2086 # lists of ids
			{
				getent passwd $_u | awk -F: '{ print "u", $3 }'
				getent group $_g | awk -F: '{ print "g", $3 }'
			} >"$_scan.known" 2>/dev/null
			awk -v known="$_scan.known" 'FILENAME == known { k[$1, $2] = 1; next }
				!(("u", $2) in k) || !(("g", $3) in k) { sub(/^O [^ ]* [^ ]* /, ""); print }' "$_scan.known" "$_scan.O" >"$_scan.U.all"
		fi
		for _t in W U; do
			if [ -f "$_scan.$_t.all" ]; then sort -u "$_scan.$_t.all" >"$_scan.$_t"; fi
		done
	fi
fi
read -r _scanrc <"$_scan.rc"
read -r _roots <"$_scan.roots"
