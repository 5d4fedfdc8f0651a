# ---- golden-harden runtime ------------------------------------------------------------------
# Helpers the control snippets call (g_*), and the driver that checks, fixes, finalizes and
# re-checks every control and prints one marker-prefixed JSON line per control.
#
# Everything a check or fix does runs in a subshell, so a snippet that exits, trips `set -u` or
# changes variables cannot stop the run or confuse the driver. State the driver needs from inside
# those subshells (files changed, apt already updated) goes through files in $G_WORK_DIR.
# Private names start with _g; nothing here uses `local` (not POSIX).

umask 022
# A dropped SSH session must not stop the run halfway through a module: finish (and roll back
# if needed) even when nobody reads the output any more.
trap '' HUP PIPE
LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
DEBIAN_FRONTEND=noninteractive
export LC_ALL PATH DEBIAN_FRONTEND

# Ubuntu 26.04 replaces GNU coreutils with uutils' (in Rust, under /usr/lib/cargo/bin) and keeps
# GNU's beside them, prefixed gnu. Measured on its cloud image, a uutils process (cat, stat)
# starts in 15 ms against 5 ms for GNU's, and a run starts a thousand: the script calls GNU's
# where both exist, which also makes its commands behave as on every other release. Programs the
# script starts (apt, pam-auth-update) keep the release's choice.
if [ -d /usr/lib/cargo/bin/coreutils ]; then
	for _g_c in basename cat chgrp chmod chown cksum comm cp cut date dd dirname du env expr head id install \
		ln ls md5sum mkdir mktemp mv od readlink realpath rm rmdir seq sha256sum sleep sort split stat tail tee \
		timeout touch tr truncate uname uniq wc yes; do
		[ -x "/usr/bin/gnu$_g_c" ] && eval "$_g_c() { /usr/bin/gnu$_g_c \"\$@\"; }"
	done
fi

# Longest evidence (head) and message (tail) kept per control, in bytes.
G_EVIDENCE_MAX=${G_EVIDENCE_MAX:-4096}
# 0 turns checking ahead off (see _g_ahead_start): every check runs in the run's own order.
G_CHECK_AHEAD=${G_CHECK_AHEAD:-1}
# 0 keeps every module's finish in the run's order (see _g_module_finish_beside).
G_FINISH_BESIDE=${G_FINISH_BESIDE:-1}

_g_die() {
	printf 'golden-harden: %s\n' "$*" >&2
	exit 70
}

# ---- helpers for control snippets -----------------------------------------------------------

# g_say TEXT... : one evidence line.
g_say() {
	printf '%s\n' "$*"
}

# g_cmd NAME : exit 0 when the command exists.
g_cmd() {
	command -v "$1" >/dev/null 2>&1
}

# _g_strip0 DIGITS : sets _g_s0 to DIGITS without leading zeros (one 0 stays), so that $((...))
# does not read them as octal. A variable, not output: a command substitution is a fork.
_g_strip0() {
	_g_s0=$1
	while [ "${#_g_s0}" -gt 1 ] && [ "${_g_s0#0}" != "$_g_s0" ]; do
		_g_s0=${_g_s0#0}
	done
}

# _g_same A B : exit 0 when both files have the same content.
_g_same() {
	if g_cmd cmp; then
		cmp -s -- "$1" "$2"
	else
		[ "$(cksum <"$1")" = "$(cksum <"$2")" ]
	fi
}

# g_backup FILE : call before changing FILE (content or metadata). Copies it once per module under
# $G_BACKUP_DIR/<module>/ (or records that it did not exist), so a failing Finalize can restore
# the module's files, and lists FILE as changed by the current control for the report.
g_backup() {
	_g_b=$1
	case $_g_b in
	/*) ;;
	*)
		printf 'g_backup: not an absolute path: %s\n' "$_g_b" >&2
		return 1
		;;
	esac
	case $_g_b in
	*'
'*)
		printf 'g_backup: path contains a newline\n' >&2
		return 1
		;;
	esac
	if [ "$G_MODE" != enforce ]; then
		printf 'g_backup: %s: nothing may change in %s mode\n' "$_g_b" "$G_MODE" >&2
		return 1
	fi
	printf '%s\n' "$_g_b" >>"$G_WORK_DIR/c$G_CONTROL_N.changed"
	# The module's list is short: the shell's own read spares a grep per backup.
	_g_bl=$G_WORK_DIR/m.$G_MODULE.list
	if [ -f "$_g_bl" ]; then
		while IFS= read -r _g_l; do
			[ "$_g_l" = "$_g_b" ] && return 0
		done <"$_g_bl"
	fi
	_g_bd=$G_BACKUP_DIR/$G_MODULE
	if [ ! -d "$_g_bd${_g_b%/*}" ]; then
		(umask 077 && mkdir -p -- "$_g_bd${_g_b%/*}") || return 1
	fi
	if [ -L "$_g_b" ]; then
		cp -P -p -- "$_g_b" "$_g_bd$_g_b" || return 1
		_g_bk=L
	elif [ -f "$_g_b" ]; then
		cp -p -- "$_g_b" "$_g_bd$_g_b" || return 1
		_g_bk=F
	elif [ -e "$_g_b" ]; then
		_g_bk=M
	else
		_g_bk=N
	fi
	# A copy keeps the file's mode and owner itself (cp -p, and the rollback copies it back the
	# same way): only a path that is not a file has them in its line, for chmod and chown.
	_g_bm='- - -'
	if [ "$_g_bk" = M ]; then
		_g_bm=$(stat -c '%a %u %g' -- "$_g_b") || return 1
	fi
	printf '%s %s %s\n' "$_g_bk" "$_g_bm" "$_g_b" >>"$_g_bd/.manifest" || return 1
	printf '%s\n' "$_g_b" >>"$_g_bl"
}

# _g_mkparents DIR : create DIR and missing parents (0755), recording each as new for rollback.
_g_mkparents() {
	[ -d "$1" ] && return 0
	_g_mkparents "${1%/*}" || return 1
	g_backup "$1" || return 1
	mkdir -m 0755 -- "$1"
}

# _g_install SRC DEST MODE OWNER:GROUP : atomically replace DEST by a copy of SRC (after a
# backup). install(1) copies, sets the owner, then the mode: one process instead of three.
_g_install() {
	_g_mkparents "${2%/*}" || return 1
	g_backup "$2" || return 1
	_g_put "$@"
}

# _g_put SRC DEST MODE OWNER:GROUP : _g_install without the backup (taken before).
_g_put() {
	_g_in=${2%/*}/.golden-new.${2##*/}
	if install -m "$3" -o "${4%%:*}" -g "${4#*:}" -- "$1" "$_g_in" && mv -f -- "$_g_in" "$2"; then
		return 0
	fi
	rm -f -- "$_g_in"
	return 1
}

# _g_replace_content FILE NEW : give FILE the content of NEW, keeping its mode and owner.
_g_replace_content() {
	_g_rs=$(stat -c '%a %u:%g' -- "$1") || return 1
	_g_install "$2" "$1" "${_g_rs%% *}" "${_g_rs#* }"
}

# g_set_mode PATH MODE OWNER:GROUP : chmod/chown only when different.
g_set_mode() {
	if [ ! -e "$1" ]; then
		printf 'g_set_mode: %s does not exist\n' "$1" >&2
		return 1
	fi
	_g_sm=$(stat -c '%a %U:%G %u:%g' -- "$1") || return 1
	_g_sm_mode=${_g_sm%% *}
	_g_sm_rest=${_g_sm#* }
	_g_sm_names=${_g_sm_rest%% *}
	_g_sm_ids=${_g_sm_rest#* }
	_g_sm_change=0
	_g_strip0 "$2"
	_g_sm_want=$_g_s0
	_g_strip0 "$_g_sm_mode"
	if [ "$_g_s0" != "$_g_sm_want" ]; then
		_g_sm_change=1
	fi
	if [ "$3" != "$_g_sm_names" ] && [ "$3" != "$_g_sm_ids" ]; then
		_g_sm_change=2
	fi
	[ "$_g_sm_change" -eq 0 ] && return 0
	g_backup "$1" || return 1
	if [ "$_g_sm_change" -eq 2 ]; then
		chown -- "$3" "$1" || return 1
	fi
	chmod -- "$2" "$1"
}

# g_write_file FILE MODE OWNER:GROUP : desired content on stdin; replaces FILE atomically only
# when content, mode or owner differ. Creates missing parent directories. (The helpers' temporary
# files stay in $G_WORK_DIR, which the run removes at its end: no rm per change.)
g_write_file() {
	_g_wt=$G_WORK_DIR/write.tmp
	cat >"$_g_wt" || return 1
	if [ -f "$1" ] && _g_same "$_g_wt" "$1"; then
		g_set_mode "$1" "$2" "$3"
		return
	fi
	_g_install "$_g_wt" "$1" "$2" "$3"
}

# The awk program behind g_set_kv and g_kv_is. A line is active when it is neither blank nor a
# comment; its key is the text before SEP (SEP stripped of blanks; blank SEP = any run of blanks),
# compared case-insensitively.
# shellcheck disable=SC2016 # an awk program: its $ are awk's
_G_KV_AWK='
function keyof(s,   n) {
	sub(/^[ \t]+/, "", s)
	if (s == "" || substr(s, 1, 1) == "#") return ""
	if (sepc == "") {
		n = match(s, /[ \t]/)
		return n ? substr(s, 1, n - 1) : s
	}
	n = index(s, sepc)
	if (!n) return ""
	s = substr(s, 1, n - 1)
	sub(/[ \t]+$/, "", s)
	return s
}
function valueof(s,   n) {
	sub(/^[ \t]+/, "", s)
	if (sepc == "") {
		n = match(s, /[ \t]/)
		s = n ? substr(s, n) : ""
	} else {
		s = substr(s, index(s, sepc) + length(sepc))
	}
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}
BEGIN {
	op = ENVIRON["_G_OP"]; key = ENVIRON["_G_KEY"]; value = ENVIRON["_G_VALUE"]; sep = ENVIRON["_G_SEP"]
	sepc = sep; gsub(/[ \t]/, "", sepc); k = tolower(key); done = 0
}
{
	if (tolower(keyof($0)) != k) {
		if (op == "set") print
		next
	}
	if (op == "is") {
		found = 1
		exit(valueof($0) == value ? 0 : 1)
	}
	if (!done) { print key sep value; done = 1 } else print "# " $0
}
END {
	if (op == "is") { if (!found) exit 1 }
	else if (!done) print key sep value
}'

# g_kv_is FILE KEY VALUE [SEP] : exit 0 when the first active line for KEY has that VALUE.
g_kv_is() {
	[ -f "$1" ] || return 1
	_G_OP=is _G_KEY=$2 _G_VALUE=$3 _G_SEP=${4- } awk "$_G_KV_AWK" "$1"
}

# g_file_is FILE TEXT : exit 0 when FILE holds TEXT, both without their trailing newlines, as
# [ "$(cat FILE)" = "$(printf '%s' TEXT)" ] would compare them (a missing file holds nothing), and
# leaves the content in _g_fi. Read by the shell itself: no process.
g_file_is() {
	_g_fi=
	_g_l=
	if [ -f "$1" ]; then
		while IFS= read -r _g_l; do
			_g_fi="$_g_fi$_g_l
"
			_g_l=
		done <"$1"
		# A last line without a newline: read failed, but set _g_l.
		_g_fi=$_g_fi$_g_l
	fi
	_g_strip_nl "$_g_fi"
	_g_fi=$_g_s
	_g_strip_nl "$2"
	[ "$_g_fi" = "$_g_s" ]
}

# _g_strip_nl TEXT : sets _g_s to TEXT without its trailing newlines.
_g_strip_nl() {
	_g_s=$1
	while :; do
		case $_g_s in
		*'
') _g_s=${_g_s%?} ;;
		*) break ;;
		esac
	done
}

# g_set_content FILE NEW : give FILE the content of the file NEW when they differ, keeping FILE's
# mode and owner.
g_set_content() {
	_g_same "$2" "$1" && return 0
	_g_replace_content "$1" "$2"
}

# g_set_kv FILE KEY VALUE [SEP] : make FILE have exactly one active KEY<SEP>VALUE line (other
# active lines for KEY commented out, appended when absent). No change when already so.
g_set_kv() {
	if [ ! -f "$1" ]; then
		printf '%s%s%s\n' "$2" "${4- }" "$3" | g_write_file "$1" 0644 root:root
		return
	fi
	_g_kt=$G_WORK_DIR/kv.tmp
	g_kv_edit "$1" "$_g_kt" "$2" "$3" "${4- }" || return 1
	if _g_same "$_g_kt" "$1"; then
		return 0
	fi
	_g_replace_content "$1" "$_g_kt"
}

# g_kv_edit IN OUT KEY VALUE SEP : write IN to OUT as g_set_kv would leave it.
g_kv_edit() {
	_G_OP=set _G_KEY=$3 _G_VALUE=$4 _G_SEP=$5 awk "$_G_KV_AWK" "$1" >"$2"
}

# ---- staged files ---------------------------------------------------------------------------
# A module whose fixes edit the same file one control after the other (sshd's configuration, the
# sysctl file, pwquality.conf and faillock.conf) stages the edits: each fix reads the module's
# pending copy of the file (g_stage) and writes the next one into the run's work directory
# (g_stage_done), and the driver installs
# every pending copy once, after the module's last fix and before its Finalize (which a module
# that stages must have): one install per file instead of one per control. The file is backed up,
# and listed as changed by the control, when a fix first changes it, as the other helpers do;
# checks read the files themselves, so a control may stage only what no other control of its
# module checks before the Finalize.

# _g_stage_key FILE : sets _g_sk to the work directory's name prefix for FILE's pending copies.
_g_stage_key() {
	_g_sk=
	_g_r=$1
	while :; do
		case $_g_r in
		*/*)
			_g_sk=$_g_sk${_g_r%%/*}%
			_g_r=${_g_r#*/}
			;;
		*)
			_g_sk=$G_WORK_DIR/s.$G_MODULE.$_g_sk$_g_r
			return 0
			;;
		esac
	done
}

# g_stage FILE : sets _g_sf to the file that holds FILE's content as the module's fixes left it
# so far (its pending copy, or FILE itself), and _g_sn to the file a fix writes the new content to.
g_stage() {
	_g_stage_key "$1"
	_g_sc=
	[ -f "$_g_sk.cur" ] && read -r _g_sc <"$_g_sk.cur"
	case $_g_sc in
	a)
		_g_sf=$_g_sk.a
		_g_sn=$_g_sk.b
		;;
	b)
		_g_sf=$_g_sk.b
		_g_sn=$_g_sk.a
		;;
	*)
		_g_sf=$1
		_g_sn=$_g_sk.a
		;;
	esac
}

# g_stage_done FILE [MODE OWNER:GROUP] : after g_stage FILE and the fix writing _g_sn, make _g_sn
# FILE's pending content when it differs from _g_sf. With MODE and OWNER:GROUP, FILE ends with that
# mode and owner too (as with g_write_file, and the first mode staged for FILE is the one
# installed); without, it keeps its own (as with g_set_content).
g_stage_done() {
	if [ -f "$_g_sf" ] && _g_same "$_g_sn" "$_g_sf"; then
		if [ $# -eq 3 ] && [ "$_g_sf" = "$1" ]; then
			g_set_mode "$1" "$2" "$3"
		fi
		return 0
	fi
	_g_mkparents "${1%/*}" || return 1
	g_backup "$1" || return 1
	if [ "$_g_sf" = "$1" ]; then
		printf '%s %s %s\n' "${2:--}" "${3:--}" "$1" >>"$G_WORK_DIR/s.$G_MODULE.list"
	fi
	echo "${_g_sn##*.}" >"$_g_sk.cur"
}

# g_stage_kv FILE KEY VALUE [SEP] : g_set_kv on the module's pending copy of FILE (a new FILE is
# 0644 root:root, as g_set_kv makes it).
g_stage_kv() {
	g_stage "$1"
	if [ -f "$_g_sf" ]; then
		g_kv_edit "$_g_sf" "$_g_sn" "$2" "$3" "${4- }" || return 1
		g_stage_done "$1"
		return
	fi
	printf '%s%s%s\n' "$2" "${4- }" "$3" >"$_g_sn" || return 1
	g_stage_done "$1" 0644 root:root
}

# g_stage_line FILE LINE : g_ensure_line on the module's pending copy of FILE.
g_stage_line() {
	g_stage "$1"
	if [ ! -f "$_g_sf" ]; then
		printf '%s\n' "$2" >"$_g_sn" || return 1
		g_stage_done "$1" 0644 root:root
		return
	fi
	grep -qxF -- "$2" "$_g_sf" && return 0
	_g_add_line "$_g_sf" "$2" "$_g_sn" || return 1
	g_stage_done "$1"
}

# _g_stage_commit : install the module's pending copies, each with the mode and owner staged for
# it, or its own.
_g_stage_commit() {
	[ -f "$G_WORK_DIR/s.$G_MODULE.list" ] || return 0
	while read -r _g_scm _g_sco _g_scp; do
		g_stage "$_g_scp"
		if [ "$_g_scm" = - ]; then
			_g_rs=$(stat -c '%a %u:%g' -- "$_g_scp") || return 1
			_g_scm=${_g_rs%% *}
			_g_sco=${_g_rs#* }
		fi
		if ! _g_put "$_g_sf" "$_g_scp" "$_g_scm" "$_g_sco"; then
			echo "installing the new $_g_scp failed"
			return 1
		fi
	done <"$G_WORK_DIR/s.$G_MODULE.list"
}

# g_ensure_line FILE LINE : append LINE when no identical line exists.
g_ensure_line() {
	if [ ! -f "$1" ]; then
		printf '%s\n' "$2" | g_write_file "$1" 0644 root:root
		return
	fi
	grep -qxF -- "$2" "$1" && return 0
	_g_et=$G_WORK_DIR/line.tmp
	_g_add_line "$1" "$2" "$_g_et" || return 1
	_g_replace_content "$1" "$_g_et"
}

# _g_add_line IN LINE OUT : write IN with LINE appended (after a newline IN's last line lacks) to OUT.
_g_add_line() {
	{
		cat -- "$1"
		if [ -n "$(tail -c 1 -- "$1")" ]; then
			echo
		fi
		printf '%s\n' "$2"
	} >"$3"
}

# g_remove_lines FILE ERE : delete the lines matching ERE (no change when none matches).
g_remove_lines() {
	[ -f "$1" ] || return 0
	grep -Eq -- "$2" "$1" || return 0
	_g_rt=$G_WORK_DIR/rm.tmp
	grep -Ev -- "$2" "$1" >"$_g_rt"
	[ $? -le 1 ] || return 1
	_g_replace_content "$1" "$_g_rt"
}

# The package database as dpkg knows it, read with one dpkg-query when the run starts and again
# after the run changed packages (_g_apt marks that in $G_WORK_DIR/pkgs-changed): _G_PKGS holds
# one word STATUS:NAME per package (STATUS is dpkg's db:Status-Status: installed, config-files,
# unpacked...), between blanks. Checks look packages up in it with the shell's own pattern
# matching instead of a dpkg-query each. Empty when dpkg-query is missing or failed: then every
# lookup asks dpkg. Packages change only through g_pkg_install and g_pkg_purge.
_G_PKGS=

# _g_pkg_fresh : reread _G_PKGS when packages changed since it was read. The driver calls it
# before every check, in its own shell (a check's subshell cannot keep what it reads).
_g_pkg_fresh() {
	[ -s "$G_WORK_DIR/pkgs-changed" ] || return 0
	_g_pkg_load
}

_g_pkg_load() {
	_G_PKGS=
	# A module finishing beside the run leaves the mark to the run, whose own list it is.
	[ -n "${_g_beside:-}" ] || : >"$G_WORK_DIR/pkgs-changed"
	[ "$G_OS_FAMILY" = debian ] || return 0
	# shellcheck disable=SC2016 # dpkg-query's format, not a shell expansion
	_g_pl=$(dpkg-query -W -f='${db:Status-Status}:${Package} ' 2>/dev/null) || return 0
	_G_PKGS=" $_g_pl "
}

# _g_pkg_split PKG... : sets _g_pc to the packages _G_PKGS answers for (it is loaded and not
# stale, and the name has no architecture qualifier, which only dpkg-query matches exactly) and
# _g_pq to the others, each after a blank.
_g_pkg_split() {
	_g_pc=
	_g_pq=
	if [ -z "$_G_PKGS" ] || [ -s "$G_WORK_DIR/pkgs-changed" ]; then
		for _g_p in "$@"; do _g_pq="$_g_pq $_g_p"; done
		return 0
	fi
	for _g_p in "$@"; do
		case $_g_p in
		*:*) _g_pq="$_g_pq $_g_p" ;;
		*) _g_pc="$_g_pc $_g_p" ;;
		esac
	done
}

# g_pkg_missing PKG... : set _g_pm to the packages that are not installed, each followed by a
# blank. A name may carry an architecture (openssl:amd64).
g_pkg_missing() {
	_g_pm=
	case $G_OS_FAMILY in
	debian)
		_g_pkg_split "$@"
		for _g_p in $_g_pc; do
			case $_G_PKGS in
			*" installed:$_g_p "*) ;;
			*) _g_pm="$_g_pm$_g_p " ;;
			esac
		done
		[ -n "$_g_pq" ] || return 0
		# shellcheck disable=SC2016,SC2086 # dpkg-query's format; a list of package names
		_g_pm=$_g_pm$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' -- $_g_pq 2>/dev/null |
			awk -v want="$_g_pq" '$2 == "installed" { ok[$1] = 1 }
				END { n = split(want, w, " "); for (i = 1; i <= n; i++) { p = w[i]; sub(/:.*/, "", p); if (!(p in ok)) printf "%s ", w[i] } }')
		;;
	rhel)
		for _g_p in "$@"; do
			rpm -q -- "$_g_p" >/dev/null 2>&1 || _g_pm="$_g_pm$_g_p "
		done
		;;
	*)
		for _g_p in "$@"; do
			_g_pm="$_g_pm$_g_p "
		done
		;;
	esac
}

# g_pkg_installed PKG... : exit 0 when all are installed.
g_pkg_installed() {
	[ $# -gt 0 ] || return 0
	g_pkg_missing "$@"
	[ -z "$_g_pm" ]
}

# g_pkg_present PKG... : set _g_pp to those of the packages that are on the system in any state
# from unpacked to installed (not purged, not only their configuration files left), each after
# a blank.
g_pkg_present() {
	_g_pp=
	_g_pkg_split "$@"
	for _g_p in $_g_pc; do
		case $_G_PKGS in
		*" installed:$_g_p "* | *" unpacked:$_g_p "* | *" half-installed:$_g_p "* | \
			*" half-configured:$_g_p "* | *" triggers-awaited:$_g_p "* | *" triggers-pending:$_g_p "*)
			_g_pp="$_g_pp $_g_p"
			;;
		esac
	done
	[ -n "$_g_pq" ] || return 0
	# shellcheck disable=SC2016,SC2086 # dpkg-query's format; a list of package names
	_g_pp=$_g_pp$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' -- $_g_pq 2>/dev/null |
		awk 'substr($2, 2, 1) !~ /[nc]/ { printf " %s", $1 }')
}

_g_apt() {
	echo "$*" >>"$G_WORK_DIR/pkgs-changed"
	apt-get -q -y -o DPkg::Lock::Timeout=300 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >&2
}

_g_apt_update() {
	[ -f "$G_WORK_DIR/apt-updated" ] && return 1
	: >"$G_WORK_DIR/apt-updated"
	_g_apt update
}

# g_pkg_install PKG... : install the missing ones (apt-get update at most once per run, and only
# when the package lists are empty or the install fails without it).
g_pkg_install() {
	g_pkg_missing "$@"
	[ -n "$_g_pm" ] || return 0
	case $G_OS_FAMILY in
	debian)
		if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
			_g_apt_update
		fi
		# shellcheck disable=SC2086 # word splitting of the package list is wanted
		_g_apt install --no-install-recommends $_g_pm ||
			{ _g_apt_update && _g_apt install --no-install-recommends $_g_pm; }
		;;
	rhel)
		# shellcheck disable=SC2086
		dnf -q -y install $_g_pm >&2
		;;
	*)
		printf 'g_pkg_install: unsupported OS family %s\n' "$G_OS_FAMILY" >&2
		return 1
		;;
	esac
}

# g_pkg_purge PKG... : remove the installed ones.
g_pkg_purge() {
	g_pkg_missing "$@"
	_g_pm=" $_g_pm"
	_g_pi=""
	for _g_p in "$@"; do
		case $_g_pm in
		*" $_g_p "*) ;;
		*) _g_pi="$_g_pi $_g_p" ;;
		esac
	done
	[ -n "$_g_pi" ] || return 0
	case $G_OS_FAMILY in
	debian)
		# shellcheck disable=SC2086 # word splitting of the package list is wanted
		_g_apt purge $_g_pi
		;;
	rhel)
		# shellcheck disable=SC2086
		dnf -q -y remove $_g_pi >&2
		;;
	esac
}

# g_unit_exists UNIT : exit 0 when systemd knows the unit file.
g_unit_exists() {
	systemctl list-unit-files --no-legend --no-pager -- "$1" 2>/dev/null | grep -q .
}

# g_unit_enabled UNIT, g_unit_active UNIT, g_unit_masked UNIT
g_unit_enabled() {
	systemctl is-enabled -q -- "$1" 2>/dev/null
}

g_unit_active() {
	systemctl is-active -q -- "$1" 2>/dev/null
}

g_unit_masked() {
	[ "$(systemctl is-enabled -- "$1" 2>/dev/null)" = masked ]
}

# g_unit_enable UNIT : enable the unit's systemd unit file, for the next boot. Measured on
# Ubuntu 22.04, `systemctl enable` costs 0.9 s, none of it needed here:
#   - 600 ms are systemd-sysv-install (update-rc.d, a Perl program) writing the SysV init
#     script's rc.d links, which systemd never reads for a unit that has its own unit file
#     (SYSTEMCTL_SKIP_SYSV, systemd's ENVIRONMENT.md);
#   - 280 ms are the daemon-reload after it (--no-reload), which only tells the running manager
#     about the new symlink: is-enabled reads the unit files, `systemctl start` loads the unit,
#     and the image's next boot reads everything.
# A unit that only a SysV script provides is enabled the usual way.
g_unit_enable() {
	g_unit_enabled "$1" || SYSTEMCTL_SKIP_SYSV=1 systemctl enable -q --no-reload -- "$1" 2>/dev/null ||
		systemctl enable -q -- "$1"
}

# g_unit_enable_now UNIT : enable, and start when not active.
g_unit_enable_now() {
	g_unit_enable "$1" || return 1
	g_unit_active "$1" || systemctl start -- "$1"
}

# g_unit_mask UNIT : stop and mask.
g_unit_mask() {
	g_unit_masked "$1" && return 0
	systemctl stop -- "$1" 2>/dev/null
	systemctl mask -q -- "$1"
}

# ---- driver ---------------------------------------------------------------------------------

# The exit status of g_no_fix: the control has no automatic fix, so nothing ran and nothing
# needs finalizing or re-checking.
_G_NO_FIX=254

# g_no_fix : the whole fix of a control that only reports (rendered when Fix is empty).
g_no_fix() {
	g_say 'no automatic fix: this control needs a manual change'
	return "$_G_NO_FIX"
}

# _g_now sets _g_t to the uptime in centiseconds: a builtin read, no process per measurement.
_g_now() {
	_g_t=0
	[ -r /proc/uptime ] || return 0
	read -r _g_up _g_rest </proc/uptime || return 0
	_g_strip0 "${_g_up%.*}${_g_up#*.}"
	_g_t=$_g_s0
}

# _g_usage sets _g_cpu to the CPU time of this shell and the processes it waited for, _g_mcpu to
# the machine's (its cgroup's: every process of a container, the whole of a VM, daemons that
# systemd starts included; empty when unreadable), both in ms, and _g_pids to the last process id
# the machine's pid namespace handed out (the difference of two readings is the processes started
# between them). Builtin reads only: a loaded machine still shows how much work a run did.
_g_usage() {
	_g_cpu=0
	_g_mcpu=
	_g_pids=
	# A file of /proc may end without a newline: read's status says nothing, the value does.
	_g_st=
	[ -r /proc/self/stat ] && read -r _g_st </proc/self/stat
	if [ -n "$_g_st" ]; then
		# Fields after the command name: state is field 3, utime..cstime are 14..17.
		# shellcheck disable=SC2086 # splitting the fields is the point
		set -- ${_g_st##*) }
		if [ $# -ge 15 ]; then
			shift 11
			_g_cpu=$((($1 + $2 + $3 + $4) * 1000 / _g_hz))
		fi
	fi
	if [ -r /sys/fs/cgroup/cpu.stat ]; then
		while read -r _g_k _g_val; do
			if [ "$_g_k" = usage_usec ]; then
				_g_mcpu=$((_g_val / 1000))
				break
			fi
		done </sys/fs/cgroup/cpu.stat
	fi
	# The last field of /proc/loadavg is the namespace's last pid. (Not ns_last_pid: a sysctl
	# file answers only a read at offset 0, and the shell reads a byte at a time.)
	if [ -r /proc/loadavg ]; then
		read -r _g_k _g_k _g_k _g_k _g_pids </proc/loadavg
		case $_g_pids in '' | *[!0-9]*) _g_pids= ;; esac
	fi
}

# _g_usage_save BASE : keep a reading (_g_usage) under BASE. _g_usage_since BASE : set _g_ucpu,
# _g_umcpu and _g_upids to the record values (#N, or #null when unreadable) of the usage since.
_g_usage_save() {
	_g_usage
	_g_set cpu "$1" "$_g_cpu"
	_g_set mcpu "$1" "$_g_mcpu"
	_g_set pids "$1" "$_g_pids"
}

_g_usage_since() {
	_g_usage
	_g_get cpu "$1"
	_g_ucpu=#$((_g_cpu - _g_v))
	_g_get mcpu "$1"
	_g_umcpu=#null
	if [ -n "$_g_mcpu" ] && [ -n "$_g_v" ]; then
		_g_umcpu=#$((_g_mcpu - _g_v))
	fi
	_g_get pids "$1"
	_g_upids=#null
	if [ -n "$_g_pids" ] && [ -n "$_g_v" ] && [ "$_g_pids" -ge "$_g_v" ]; then
		_g_upids=#$((_g_pids - _g_v))
	fi
}

_g_detect_container() {
	if g_cmd systemd-detect-virt; then
		systemd-detect-virt -q --container && return 0
	fi
	[ -f /.dockerenv ] || [ -f /run/.containerenv ] && return 0
	[ -r /proc/1/environ ] && tr '\0' '\n' </proc/1/environ 2>/dev/null | grep -q '^container='
}

# _g_emit TYPE FIELDS... : one result line. FIELDS are name=value pairs; a value starting with @
# names a file whose content becomes a JSON string (evidence: head, message: tail), a value
# starting with % names a file of lines that becomes a JSON array, a value starting with # is a
# raw JSON value (numbers, booleans), anything else is a string.
#
# The awk program formats one record given as its arguments, or with -v stream=1 every record it
# reads, one per line, fields separated by the unit separator (\037): _g_record uses one such awk
# for the whole run instead of one awk per record. The stream holds the records it formatted
# until a line "flush" (_g_stream_flush, at the end of each module) or its end, and writes them
# at once: the build shows each module's results as the module ends, and a burst of lines costs
# its reader (the SSH connection, Packer's plugin RPC, the UI) a fraction of what a line at a
# time costs, on the machine's CPU when the builder runs on the same host.
# shellcheck disable=SC2016 # an awk program: its $ are awk's
_G_EMIT_AWK='
function esc(s,   n, i, out, parts) {
	n = split(s, parts, /\\/); out = parts[1]
	for (i = 2; i <= n; i++) out = out "\\\\" parts[i]
	n = split(out, parts, /"/); out = parts[1]
	for (i = 2; i <= n; i++) out = out "\\\"" parts[i]
	n = split(out, parts, /\t/); out = parts[1]
	for (i = 2; i <= n; i++) out = out "\\t" parts[i]
	n = split(out, parts, /\n/); out = parts[1]
	for (i = 2; i <= n; i++) out = out "\\n" parts[i]
	gsub(/[\001-\010\013-\037\177\r]/, "", out)
	return out
}
function slurp(f, tail,   line, s, first) {
	s = ""; first = 1
	while ((getline line < f) > 0) {
		s = first ? line : s "\n" line
		first = 0
		if (!tail && length(s) > max) break
	}
	close(f)
	if (length(s) > max) s = tail ? "..." substr(s, length(s) - max + 1) : substr(s, 1, max) "..."
	return s
}
function lines(f,   line, s, seen) {
	s = ""
	while ((getline line < f) > 0) {
		if (line == "" || (line in seen)) continue
		seen[line] = 1
		s = s (s == "" ? "" : ",") "\"" esc(line) "\""
	}
	close(f)
	return "[" s "]"
}
function record(type, n, fields,   out, i, kv, k, name, v, c, rest) {
	out = "{\"type\":\"" type "\""
	for (i = 1; i <= n; i++) {
		kv = fields[i]; k = index(kv, "="); name = substr(kv, 1, k - 1); v = substr(kv, k + 1)
		c = substr(v, 1, 1); rest = substr(v, 2)
		if (c == "@") v = "\"" esc(slurp(rest, 0)) "\""
		else if (c == "^") v = "\"" esc(slurp(rest, 1)) "\""
		else if (c == "%") v = lines(rest)
		else if (c == "#") v = rest
		else v = "\"" esc(v) "\""
		out = out ",\"" name "\":" v
	}
	return marker " " out "}"
}
BEGIN {
	if (stream) {
		FS = "\037"
	} else {
		for (i = 1; i < ARGC; i++) fields[i] = ARGV[i]
		print record(type, ARGC - 1, fields)
		exit 0
	}
}
$0 == "flush" {
	if (held != "") printf "%s", held
	fflush()
	held = ""
	next
}
{
	for (i = 2; i <= NF; i++) fields[i - 1] = $i
	held = held record($1, NF - 1, fields) "\n"
}
END {
	if (held != "") printf "%s", held
}'

_g_emit() {
	_g_et_type=$1
	shift
	awk -v marker="$G_MARKER" -v type="$_g_et_type" -v max="$G_EVIDENCE_MAX" "$_G_EMIT_AWK" "$@"
}

_G_US=$(printf '\037')

# _g_stream_open : start the awk that formats the records of the rest of the run (see
# _G_EMIT_AWK), fed through a FIFO on fd 3. Without mkfifo, _g_record falls back to _g_emit.
# Checks, fixes and finalizers run with fd 3 closed: a process they leave behind must not keep
# the stream open.
#
# mawk (the awk of Debian and Ubuntu) fills its whole input buffer before it handles a line of
# a pipe: without -W interactive (line-buffered input), every record would reach the build only
# when the run ends, and a long run would show no progress at all. Other awks read pipes a line
# at a time and do not know the option.
_g_stream_open() {
	_g_stream_pid=""
	mkfifo -m 0600 -- "$G_WORK_DIR/records" 2>/dev/null || return 0
	set --
	case $(awk -W version 2>/dev/null </dev/null) in mawk*) set -- -W interactive ;; esac
	awk "$@" -v stream=1 -v marker="$G_MARKER" -v max="$G_EVIDENCE_MAX" "$_G_EMIT_AWK" <"$G_WORK_DIR/records" &
	_g_stream_pid=$!
	exec 3>"$G_WORK_DIR/records"
}

# _g_stream_close : end the stream and wait until every record is printed.
_g_stream_close() {
	[ -n "${_g_stream_pid:-}" ] || return 0
	exec 3>&-
	wait "$_g_stream_pid"
	_g_stream_pid=""
}

# _g_stream_flush : the records so far reach the build now.
_g_stream_flush() {
	[ -z "${_g_stream_pid:-}" ] || printf 'flush\n' >&3
}

# _g_record TYPE FIELDS... : like _g_emit, through the stream. The fields of these records are
# file references, numbers and the driver's own words (ids, module names, statuses): none holds
# a newline or the unit separator.
_g_record() {
	if [ -z "${_g_stream_pid:-}" ]; then
		_g_emit "$@"
		return
	fi
	_g_rl=$1
	shift
	for _g_rf in "$@"; do
		_g_rl=$_g_rl$_G_US$_g_rf
	done
	printf '%s\n' "$_g_rl" >&3
}

# _g_get NAME N : sets _g_v to the per-control variable NAME_N (POSIX sh has no arrays; a
# command substitution would cost a fork per read).
_g_get() {
	_g_v=
	eval "_g_v=\${_g_${1}_$2-}"
}

_g_set() {
	eval "_g_${1}_$2=\$3"
}

# g_begin : prepare the work directory and announce the run.
g_begin() {
	[ "$(id -u)" -eq 0 ] || [ "${G_ALLOW_NON_ROOT:-0}" = 1 ] || _g_die "must run as root (through sudo)"
	case $G_MODE in
	enforce | audit) ;;
	*) _g_die "unknown mode $G_MODE" ;;
	esac
	mkdir -m 0700 -- "$G_WORK_DIR" 2>/dev/null || _g_die "cannot create the work directory $G_WORK_DIR (does it exist already?)"
	trap '_g_cleanup' EXIT
	trap 'exit 130' INT TERM
	if [ -z "${G_IN_CONTAINER:-}" ]; then
		if _g_detect_container; then G_IN_CONTAINER=1; else G_IN_CONTAINER=0; fi
	fi
	_g_count=0
	_g_hz=$(getconf CLK_TCK 2>/dev/null) || _g_hz=100
	case $_g_hz in '' | *[!0-9]* | 0) _g_hz=100 ;; esac
	_g_now
	_g_run_t0=$_g_t
	_g_usage_save run
	_g_pkg_load
	_g_emit run run_id="$G_RUN_ID" mode="$G_MODE" in_container="#$([ "$G_IN_CONTAINER" = 1 ] && echo true || echo false)" \
		backup_dir="$G_BACKUP_DIR" os_id="$G_OS_ID" os_version="$G_OS_VERSION" build_user="$G_BUILD_USER"
	_g_stream_open
	# The CPUs the machine has: with two or more the driver checks ahead on the second.
	_g_ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || _g_ncpu=1
	case $_g_ncpu in '' | *[!0-9]*) _g_ncpu=1 ;; esac
	_g_mi=0
	_g_cdir=$G_WORK_DIR
	_g_ahead_start
}

_g_cleanup() {
	_g_ahead_stop
	# A module finishing beside the run may be restarting a daemon or restoring its files.
	_g_beside_wait
	_g_stream_close
	case $G_WORK_DIR in
	/*/golden-harden-*) rm -rf -- "$G_WORK_DIR" ;;
	esac
	if [ -n "${G_SCRIPT:-}" ]; then
		rm -f -- "$G_SCRIPT"
	fi
}

# g_module NAME FINALIZE_FUNCTION|- inline|beside : start a module; "beside" lets its finish
# (Finalize, re-checks, rollback) run beside the modules after it (g_module_end).
g_module() {
	G_MODULE=$1
	_g_fin=$2
	_g_finish=$3
	_g_mod_fixed=""
	_g_mi=$((_g_mi + 1))
	_g_ahead_take
	_g_now
	_g_mod_t0=$_g_t
	_g_usage_save mod
}

# _g_run_check N EVIDENCE_FILE ERROR_FILE : run control N's check in a subshell (nothing it does can
# stop the run or change its variables), with the package list fresh; sets _g_rc to its exit
# status and _g_ct0 to when it started.
_g_run_check() {
	_g_pkg_fresh
	_g_now
	_g_ct0=$_g_t
	("check_$1") >"$2" 2>"$3" </dev/null 3>&-
	_g_rc=$?
}

# g_control N ID : check control N; in enforce mode fix it when not compliant. Controls whose
# fix ran are reported by g_module_end (after Finalize and the re-check); the others right away.
g_control() {
	G_CONTROL_N=$1
	# shellcheck disable=SC2034 # for control snippets: the id of the control being run
	G_CONTROL=$2
	_g_count=$((_g_count + 1))
	_g_set id "$1" "$2"
	_g_c=$G_WORK_DIR/c$1
	if [ -n "$_g_mod_ahead" ]; then
		# Checked ahead: the same check, run while nothing had changed on the machine; it passed,
		# or said why it does not apply (_g_ahead_control).
		_g_c=$_g_cdir/c$1
		_g_get arc "$1"
		_g_rc=$_g_v
		_g_get adur "$1"
		_g_cdur=$_g_v
	else
		_g_run_check "$1" "$_g_c.ev0" "$_g_c.err0"
		# "Not applicable" must say why on stdout; a bare 2 is what dash returns when a snippet
		# trips over an unset variable, which is a broken check, not a verdict.
		if [ "$_g_rc" -eq 2 ] && [ ! -s "$_g_c.ev0" ]; then
			_g_rc=2-without-reason
		fi
	fi
	_g_nb=false
	case $_g_rc in
	0)
		_g_before=pass
		_g_status=pass
		;;
	3)
		_g_before=pass
		_g_status=pass
		_g_nb=true
		;;
	2)
		_g_before=skipped
		_g_status=skipped
		head -n 1 -- "$_g_c.ev0" >"$_g_c.msg"
		;;
	1)
		_g_before=fail
		_g_status=failed
		if [ "$G_MODE" = enforce ]; then
			# From the first fix on, what was checked ahead may no longer be true.
			case ${_g_no_fix_controls:-} in
			*" $1 "*) ;;
			*)
				_g_ahead_ok=0
				_g_ahead_stop
				;;
			esac
			("fix_$1") >"$_g_c.fix" 2>&1 </dev/null 3>&-
			_g_frc=$?
			_g_set fixrc "$1" "$_g_frc"
			if [ "$_g_frc" -eq "$_G_NO_FIX" ]; then
				cp -- "$_g_c.fix" "$_g_c.msg"
			else
				_g_status=pending
				_g_mod_fixed="$_g_mod_fixed $1"
			fi
		fi
		;;
	*)
		_g_before=error
		_g_status=failed
		{
			printf 'check exited %s (expected 0 compliant, 1 not compliant, 2 not applicable, 3 next boot)\n' "$_g_rc"
			cat -- "$_g_c.err0"
		} >"$_g_c.msg"
		;;
	esac
	if [ -z "$_g_mod_ahead" ]; then
		_g_now
		_g_cdur=$(((_g_t - _g_ct0) * 10))
	fi
	_g_set before "$1" "$_g_before"
	_g_set dur "$1" "$_g_cdur"
	if [ "$_g_status" != pending ]; then
		_g_emit_control "$1" "$_g_status" "$_g_nb" "$_g_c.ev0" "" false
	fi
}

# _g_emit_control N STATUS NEXT_BOOT EVIDENCE_FILE BEFORE_EVIDENCE_FILE ROLLED_BACK
_g_emit_control() {
	_g_c=$_g_cdir/c$1
	[ -f "$_g_c.msg" ] || : >"$_g_c.msg"
	[ -f "$_g_c.changed" ] || : >"$_g_c.changed"
	_g_get id "$1"
	_g_e_id=$_g_v
	_g_get before "$1"
	_g_e_before=$_g_v
	_g_get dur "$1"
	_g_record control id="$_g_e_id" module="$G_MODULE" status="$2" before="$_g_e_before" \
		next_boot="#$3" duration_ms="#$_g_v" evidence="@$4" before_evidence="@${5:-/dev/null}" \
		message="^$_g_c.msg" backups="%$_g_c.changed" rolled_back="#$6"
}

# _g_rollback MODULE : restore every file the module changed, newest change first.
_g_rollback() {
	_g_rbd=$G_BACKUP_DIR/$1
	[ -f "$_g_rbd/.manifest" ] || return 0
	_g_rbrc=0
	awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$_g_rbd/.manifest" >"$G_WORK_DIR/rollback.tmp"
	while read -r _g_k _g_m _g_u _g_g _g_p; do
		case $_g_k in
		F | L)
			{ rm -f -- "$_g_p.golden-restore" && cp -P -p -- "$_g_rbd$_g_p" "$_g_p.golden-restore" &&
				mv -f -- "$_g_p.golden-restore" "$_g_p"; } || _g_rbrc=1
			;;
		M)
			{ chown -- "$_g_u:$_g_g" "$_g_p" && chmod -- "$_g_m" "$_g_p"; } || _g_rbrc=1
			;;
		N)
			if [ -d "$_g_p" ] && [ ! -L "$_g_p" ]; then
				rmdir -- "$_g_p" 2>/dev/null || _g_rbrc=1
			else
				rm -f -- "$_g_p" || _g_rbrc=1
			fi
			;;
		esac
	done <"$G_WORK_DIR/rollback.tmp"
	return "$_g_rbrc"
}

# g_module_end : install the staged files and Finalize (rolling the module back when either
# fails), re-check and report the controls whose fix ran; the module's results reach the build.
# For a module started "beside" (one whose Finalize waits for a slow daemon and which no later
# module depends on, Module.Background), on a machine with two CPUs or more, that runs beside the
# modules after it (_g_module_finish_beside).
g_module_end() {
	if [ "$_g_finish" = beside ] && [ -n "$_g_mod_fixed" ] && [ "$_g_fin" != - ] &&
		[ "$G_FINISH_BESIDE" = 1 ] && [ "$_g_ncpu" -ge 2 ]; then
		_g_module_finish_beside
		return 0
	fi
	_g_module_finish
	_g_stream_flush
}

# _g_module_finish_beside : the module's Finalize, re-checks, rollback and records in a subshell
# that runs while the run goes on with the next module; g_end waits for it. Measured on a first
# cis-level1-server run on Debian 12, fail2ban's Finalize waits 0.7-1.2 s for its restarted
# Python server to read the jails, on one CPU while the other is mostly idle. The subshell has
# the module's state as it was (fixed controls, durations, backup list), and its files in the work
# directory are the module's own (fin-<module>, c<N>.*, s.<module>.*, m.<module>.list). Its
# records reach the stream through the same FIFO, one line per write, so they never interleave
# with the run's.
_g_module_finish_beside() {
	# The module's CPU so far was this shell's: the subshell's own counters start at zero.
	_g_usage
	_g_get cpu mod
	_g_bcpu=$((_g_cpu - _g_v))
	_g_finish_beside </dev/null &
	_g_beside_pids="${_g_beside_pids:-} $!"
}

# _g_finish_beside : the subshell of _g_module_finish_beside.
_g_finish_beside() {
	trap - EXIT INT TERM
	_g_beside=1
	_g_usage
	_g_set cpu mod $((_g_cpu - _g_bcpu))
	_g_module_finish
	_g_stream_flush
}

# _g_beside_wait : wait for every module finishing beside the run.
_g_beside_wait() {
	for _g_bp in ${_g_beside_pids:-}; do
		wait "$_g_bp" 2>/dev/null
	done
	_g_beside_pids=
}

_g_module_finish() {
	[ -n "$_g_mod_fixed" ] || {
		_g_module_record not_needed ""
		return 0
	}
	_g_failed_fin=0
	_g_fin_ms=0
	if [ "$_g_fin" != - ]; then
		# Named per module: the stream's awk reads a record's message file after the record was
		# written, when the next module may already be finalizing.
		_g_fo=$G_WORK_DIR/fin-$G_MODULE
		_g_now
		_g_fin_t0=$_g_t
		(_g_stage_commit && "$_g_fin") >"$_g_fo.out" 2>&1 </dev/null 3>&-
		_g_frc=$?
		_g_now
		_g_fin_ms=$(((_g_t - _g_fin_t0) * 10))
		if [ "$_g_frc" -ne 0 ]; then
			_g_failed_fin=1
			if _g_rollback "$G_MODULE"; then
				_g_rb='every file it changed was restored from its backup'
			else
				_g_rb='restoring its backups failed partly, see the backups under '"$G_BACKUP_DIR/$G_MODULE"
			fi
			("$_g_fin") >"$_g_fo.out2" 2>&1 </dev/null 3>&-
			_g_frc2=$?
			{
				printf 'finalize of module %s failed (exit %s); %s; finalize after the restore exited %s\n' \
					"$G_MODULE" "$_g_frc" "$_g_rb" "$_g_frc2"
				cat -- "$_g_fo.out"
			} >"$_g_fo.msg"
			_g_module_record failed "$_g_fo.msg"
		else
			_g_module_record ok "$_g_fo.out"
		fi
	else
		_g_module_record none ""
	fi
	for _g_n in $_g_mod_fixed; do
		G_CONTROL_N=$_g_n
		_g_c=$G_WORK_DIR/c$_g_n
		if [ "$_g_failed_fin" -eq 1 ]; then
			cp -- "$_g_fo.msg" "$_g_c.msg"
			_g_emit_control "$_g_n" failed false "$_g_c.ev0" "$_g_c.ev0" true
			continue
		fi
		_g_run_check "$_g_n" "$_g_c.ev" "$_g_c.err"
		_g_now
		_g_get dur "$_g_n"
		_g_set dur "$_g_n" $((_g_v + (_g_t - _g_ct0) * 10))
		case $_g_rc in
		0) _g_emit_control "$_g_n" fixed false "$_g_c.ev" "$_g_c.ev0" false ;;
		3) _g_emit_control "$_g_n" fixed true "$_g_c.ev" "$_g_c.ev0" false ;;
		*)
			_g_get fixrc "$_g_n"
			_g_frc=$_g_v
			{
				if [ "$_g_frc" -ne 0 ]; then
					printf 'the fix failed (exit %s); the check still says not compliant (exit %s)\n' "$_g_frc" "$_g_rc"
				else
					printf 'still not compliant after the fix (the check exited %s)\n' "$_g_rc"
				fi
				cat -- "$_g_c.fix" "$_g_c.err"
			} >"$_g_c.msg"
			_g_emit_control "$_g_n" failed false "$_g_c.ev" "$_g_c.ev0" false
			;;
		esac
	done
}

# _g_module_record FINALIZE_STATE MESSAGE_FILE (the module's time so far and Finalize's, in ms)
_g_module_record() {
	_g_now
	_g_usage_since mod
	if [ -n "$_g_mod_ahead" ]; then
		# The module's time and CPU are its checks', in the shell that checked it ahead; the
		# machine's counters covered both shells then.
		_g_record module name="$G_MODULE" finalize="$1" duration_ms="#$_g_amod_dur" finalize_ms="#0" \
			cpu_ms="#$_g_amod_cpu" machine_cpu_ms="#null" processes="#null" message="^/dev/null"
		return 0
	fi
	if [ -n "${_g_beside:-}" ]; then
		# The machine's counters covered the modules that ran beside this one's finish.
		_g_umcpu=#null
		_g_upids=#null
	fi
	_g_record module name="$G_MODULE" finalize="$1" duration_ms="#$(((_g_t - _g_mod_t0) * 10))" \
		finalize_ms="#${_g_fin_ms:-0}" cpu_ms="$_g_ucpu" machine_cpu_ms="$_g_umcpu" processes="$_g_upids" \
		message="^${2:-/dev/null}"
}

# g_end : the closing record; its absence tells the reader that the run was cut short.
g_end() {
	_g_ahead_stop
	_g_beside_wait
	_g_now
	_g_usage_since run
	_g_record end controls="#$_g_count" duration_ms="#$(((_g_t - _g_run_t0) * 10))" \
		cpu_ms="$_g_ucpu" machine_cpu_ms="$_g_umcpu" processes="$_g_upids"
	_g_stream_close
}

# ---- checking ahead --------------------------------------------------------------------------
# A re-run on a hardened machine (and an audit) spends its time in checks that pass, one after
# another, on one CPU. On a machine with two or more, a second shell (_g_ahead, started by
# g_begin) checks the modules from the last one backwards while the run works forwards, and the
# run takes a module's results from it instead of checking again when all of these hold: that
# shell finished the module, every one of its checks passed or said why it does not apply, and
# no fix has run yet (checks only read, so until the first fix the machine is what the second
# shell saw). Anything else and the run checks the module itself, as without it: a module whose
# check failed is checked, fixed, finalized and re-checked in order, and from the first fix on
# the second shell is stopped and every module is checked in order.
#
# The two shells never check the same module at once (checks of one module share its files in the
# work directory, and tools such as ufw may not like a second instance). Each marks a module
# before it looks at the other's mark: the run creates $_g_aw/at.N when it starts module N, then
# stops the second shell (which ends after its current check) if in.N is there; the second shell
# creates in.N before module N, then gives up if at.N is there. One of the two sees the other.
# The run goes up and the second shell down, so they meet at one module and part for good.
# Render writes _g_ahead_order (the modules' numbers, last first), _g_no_fix_controls and one
# _g_ahead_m<N> per module.

# _g_ahead_start : start the second shell when the machine has two CPUs, the plan lists modules and
# most checks can be expected to pass.
_g_ahead_start() {
	_g_ahead_pid=
	_g_ahead_ok=0
	_g_mod_ahead=
	_g_aw=$G_WORK_DIR/ahead
	[ "$G_CHECK_AHEAD" = 1 ] && [ -n "${_g_ahead_order:-}" ] || return 0
	[ "$_g_ncpu" -ge 2 ] || return 0
	# It pays where most checks pass: an audit, or a machine golden-harden hardened before (the
	# backup folder holds an earlier run's). On a first run a fix comes within the first module,
	# and the second shell's work would only be thrown away.
	if [ "$G_MODE" != audit ]; then
		_g_seen=
		for _g_d in "${G_BACKUP_DIR%/*}"/*; do
			if [ -d "$_g_d" ] && [ "$_g_d" != "$G_BACKUP_DIR" ]; then
				_g_seen=1
				break
			fi
		done
		[ -n "$_g_seen" ] || return 0
	fi
	mkdir -m 0700 -- "$_g_aw" || return 0
	_g_ahead >/dev/null 2>&1 </dev/null 3>&- &
	_g_ahead_pid=$!
	_g_ahead_ok=1
}

# _g_ahead_stop : no more results from the second shell; wait until it has ended.
_g_ahead_stop() {
	[ -n "${_g_ahead_pid:-}" ] || return 0
	: >"$_g_aw/stop"
	wait "$_g_ahead_pid" 2>/dev/null
	_g_ahead_pid=
}

# _g_ahead_take : at the start of module _g_mi, use the second shell's results when it has all of
# them (_g_mod_ahead=1, _g_cdir its directory), else let the run check the module.
_g_ahead_take() {
	_g_mod_ahead=
	_g_cdir=$G_WORK_DIR
	[ "${_g_ahead_ok:-0}" = 1 ] || return 0
	if [ -n "$_g_ahead_pid" ]; then
		: >"$_g_aw/at.$_g_mi"
		[ ! -e "$_g_aw/in.$_g_mi" ] || _g_ahead_stop
	fi
	[ -f "$_g_aw/m$_g_mi.done" ] || return 0
	while read -r _g_k _g_a _g_b; do
		case $_g_k in
		module)
			_g_amod_dur=$_g_a
			_g_amod_cpu=$_g_b
			;;
		*)
			_g_set arc "$_g_k" "$_g_a"
			_g_set adur "$_g_k" "$_g_b"
			;;
		esac
	done <"$_g_aw/m$_g_mi.res"
	_g_mod_ahead=1
	_g_cdir=$_g_aw
}

# _g_ahead : the second shell. Its checks write into its own directory; nothing it prints is read.
_g_ahead() {
	trap - EXIT INT TERM
	G_WORK_DIR=$_g_aw
	: >"$G_WORK_DIR/pkgs-changed"
	# shellcheck disable=SC2086 # the list of module numbers
	for _g_ai in $_g_ahead_order; do
		[ ! -f "$_g_aw/stop" ] || return 0
		: >"$_g_aw/in.$_g_ai"
		[ ! -e "$_g_aw/at.$_g_ai" ] || return 0
		_g_ares=$_g_aw/m$_g_ai.res
		: >"$_g_ares"
		_g_now
		_g_amt0=$_g_t
		_g_usage
		_g_acpu0=$_g_cpu
		"_g_ahead_m$_g_ai" || continue
		_g_now
		_g_usage
		printf 'module %s %s\n' $(((_g_t - _g_amt0) * 10)) $((_g_cpu - _g_acpu0)) >>"$_g_ares"
		: >"$_g_aw/m$_g_ai.done"
	done
}

# _g_ahead_control N ID : check control N in the second shell; fails when the run must check the
# control's module itself (the check did not pass, or the run asked the second shell to stop).
_g_ahead_control() {
	[ ! -f "$_g_aw/stop" ] || return 1
	G_CONTROL_N=$1
	# shellcheck disable=SC2034 # for control snippets, as in g_control
	G_CONTROL=$2
	_g_c=$G_WORK_DIR/c$1
	_g_run_check "$1" "$_g_c.ev0" "$_g_c.err0"
	_g_now
	case $_g_rc in
	0 | 3) ;;
	2) [ -s "$_g_c.ev0" ] || return 1 ;;
	*) return 1 ;;
	esac
	printf '%s %s %s\n' "$1" "$_g_rc" $(((_g_t - _g_ct0) * 10)) >>"$_g_ares"
}
