#!/usr/bin/env bash
# Debian 12 test targets for the end-to-end suite: real systemd, real sshd, real apt, each in its own
# network namespace, reachable from this host over SSH like a freshly launched EC2 instance.
#
# A target is a systemd-nspawn container booted from a cached mmdebstrap rootfs through an overlay,
# so a reset throws the overlay away and the next boot starts from the pristine image in seconds.
# Never a plain chroot: without its own PID, user and network namespaces, kernel.* sysctls and
# auditctl would reach the host kernel. The container's root is an unprivileged uid range on the
# host (user namespace), so the kernel itself refuses its writes to kernel.*/fs.* sysctls even if it
# remounts /proc/sys read-write; net.* sysctls, iptables/nftables and routes act on its own network
# namespace only.
#
# usage: test/target/target.sh COMMAND [ARGS]
#   build [--packages LIST] [--force]   build (or reuse) the cached rootfs
#   start [NAME] [--packages LIST] [--port N]
#                                       boot a fresh target and wait until SSH answers; prints
#                                       name/host/port/user/key/known_hosts as key=value lines
#   reset [NAME]                        stop + start again from the pristine image, same options
#   stop NAME... | --all                stop, remove the overlay, veth, cgroups and proxy
#   ssh [NAME] [COMMAND...]             ssh into a running target as the build user
#   env [NAME]                          shell exports for a running target (eval "$(... env)")
#   status [NAME]                       list targets and whether they answer
#   logs [NAME]                         console output and the journal tail of a target
#   clean                               stop every target and delete every cached image
#
# LIST is comma-separated Debian package names; "hardening" stands for the packages golden-harden
# installs (ufw auditd fail2ban python3-systemd chrony libpam-pwquality sudo). NAME defaults to
# "dev" and must match [a-z0-9][a-z0-9-]{0,39}.
#
# Environment:
#   GOLDEN_LAB_DIR           state folder (default: <repo>/.lab)
#   GOLDEN_LAB_NET           first two octets of the private block; targets use NET.0.0/22 (default: 10.213)
#   GOLDEN_LAB_BOOT_TIMEOUT  seconds to wait for SSH after boot (default: 120)
#
# Everything this script starts, it stops; `start NAME` first removes whatever a crashed run with
# the same NAME left behind. Must run as root on a Debian-like host.
set -euo pipefail

script=$(readlink -f "$0")
repo=$(cd "$(dirname "$script")/../.." && pwd)
lab=${GOLDEN_LAB_DIR:-$repo/.lab}
net_prefix=${GOLDEN_LAB_NET:-10.213}
boot_timeout=${GOLDEN_LAB_BOOT_TIMEOUT:-120}

build_user='admin'
build_uid=1000
proxy_port=3128
max_slots=256
hardening_packages=(ufw auditd fail2ban python3-systemd chrony libpam-pwquality sudo)
host_packages=(mmdebstrap systemd-container tinyproxy-bin iproute2 openssh-client util-linux procps)

log() { echo "target: $*" >&2; }
die() { echo "target: error: $*" >&2; exit 1; }

# --- recipe begin ---------------------------------------------------------------------------------
# Everything between these markers is hashed into the image cache key: editing the recipe rebuilds
# the rootfs on the next build/start. The mirror comes from the host's apt sources at run time and is
# part of the key too, but it is never written into this repository.
recipe_suite=bookworm
recipe_variant=apt
# The image's files belong to this host uid range; inside the container it is uids 0-65535. It lies
# in the range systemd-nspawn reserves for containers (0x00080000-0x6FFF0000).
recipe_uid_base=$((0x5A000000))
# What a Debian 12 EC2 image has that golden-harden touches, plus what systemd needs to boot:
# linux-base and kmod so `modprobe -n -v` reads blacklist files, debconf-utils for preseeding.
recipe_packages=(
  systemd systemd-sysv dbus libpam-systemd
  openssh-server sudo python3-minimal
  iproute2 netbase ca-certificates tzdata
  linux-base kmod procps debconf-utils
)

# customize_rootfs DIR: turns a bare rootfs into a cloud-like image. Nothing here runs inside the
# rootfs: useradd --root and plain files, so the build needs no chroot of the image's own programs.
customize_rootfs() {
  local dir=$1
  # The build user of Debian's EC2 images: key-only login (password locked by useradd's "!"),
  # passwordless sudo from a drop-in, the groups cloud-init gives the default user.
  useradd --root "$dir" --uid "$build_uid" --user-group --create-home --shell /bin/bash \
    --groups adm,dialout,cdrom,floppy,sudo,audio,dip,video,plugdev "$build_user"
  install -d -m 0700 -o "$build_uid" -g "$build_uid" "$dir/home/$build_user/.ssh"
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$build_user" >"$dir/etc/sudoers.d/90-cloud-init-users"
  chmod 0440 "$dir/etc/sudoers.d/90-cloud-init-users"
  # cloud-init writes this drop-in on Debian's cloud images: it wins over sshd_config (first match).
  printf 'PasswordAuthentication no\n' >"$dir/etc/ssh/sshd_config.d/50-cloud-init.conf"
  # A persistent journal lets the host read why a target did not come up (journalctl -D).
  install -d -m 2755 "$dir/var/log/journal"
  # Empty machine-id: each target gets its own at start, as a first boot would.
  : >"$dir/etc/machine-id"
  # The container has no console login to offer and no hardware clock to sync.
  ln -sf /dev/null "$dir/etc/systemd/system/console-getty.service"
  ln -sf /dev/null "$dir/etc/systemd/system/systemd-hwdb-update.service"
}

# --- recipe end -----------------------------------------------------------------------------------

# shift_rootfs DIR: moves every file of DIR into the container's uid range. systemd-nspawn does the
# recursive chown itself (and runs nothing of the image but /bin/true, without network).
shift_rootfs() {
  local dir=$1 machine=golden-lab-build-$$
  local out
  out=$(
    join_cgroups "$machine"
    systemd-nspawn --quiet --directory="$dir" --machine="$machine" "${nspawn_host_args[@]}" \
      --private-users="$recipe_uid_base:65536" --private-users-ownership=chown --private-network \
      /bin/true 2>&1
  ) || { echo "$out" >&2; die "could not shift the rootfs into the container's uid range"; }
  remove_cgroups "$machine"
  forget_nspawn_state "$machine" "$dir"
}

require_root() {
  [[ $(id -u) == 0 ]] || die "must run as root (systemd-nspawn, network namespaces, overlay mounts)"
}

# ensure_host_packages installs what the lab needs from Debian's packages, once.
ensure_host_packages() {
  local missing=() p
  for p in "${host_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing host packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

valid_name() { [[ $1 =~ ^[a-z0-9][a-z0-9-]{0,39}$ ]]; }

# --- host apt configuration ----------------------------------------------------------------------

# host_debian_repos prints "URI LABEL" for each Debian archive the host's apt reads (deb.debian.org,
# a local mirror, a snapshot...), from the Release files apt downloaded.
host_debian_repos() {
  # shellcheck disable=SC2016 # $(FIELD) is apt's template syntax, not the shell's.
  apt-get indextargets --format '$(ORIGIN) $(REPO_URI) $(LABEL)' 'Created-By: Packages' 2>/dev/null |
    awk '$1 == "Debian" { print $2, $3 }' | sort -u
}

# target_sources prints the target's sources.list: the host's Debian mirror(s) for bookworm.
# Read once per run (load_host_apt_config): apt takes a moment to answer.
target_sources() {
  if [[ -n ${sources_cache:-} ]]; then
    echo "$sources_cache"
    return 0
  fi
  local repos
  repos=$(host_debian_repos)
  if [[ -z $repos ]]; then
    # A fresh machine may never have run apt-get update: then apt knows no Release file yet.
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    repos=$(host_debian_repos)
  fi
  [[ -n $repos ]] || die "the host's apt sources name no Debian archive to build the target from"
  local uri label
  while read -r uri label; do
    if [[ $label == Debian-Security ]]; then
      echo "deb $uri $recipe_suite-security main"
    else
      echo "deb $uri $recipe_suite main"
      echo "deb $uri $recipe_suite-updates main"
    fi
  done <<<"$repos" | sort -u
}

load_host_apt_config() { sources_cache=$(target_sources); }

# mirror_hosts prints the host names the target's apt may reach through the proxy.
mirror_hosts() {
  target_sources | awk '{ print $2 }' | sed -E 's#^[a-z+]+://([^/@]*@)?##; s#[:/].*$##' | sort -u
}

# host_apt_proxy prints the host's own apt HTTP proxy (host:port), if it has one.
host_apt_proxy() {
  local proxy=''
  eval "$(apt-config shell proxy Acquire::http::Proxy)"
  [[ -n $proxy && $proxy != DIRECT ]] || return 0
  echo "$proxy" | sed -E 's#^[a-z]+://##; s#/.*$##'
}

# target_apt_options prints apt options the host relies on and the target needs as well, e.g. a
# frozen mirror whose Release files are past their Valid-Until date.
target_apt_options() {
  local opt value
  for opt in Acquire::Check-Valid-Until Acquire::Check-Date; do
    value=$(apt-config dump "$opt" | awk -v o="$opt" '$1 == o { gsub(/[";]/, "", $2); print $2 }')
    [[ $value == false ]] && echo "$opt \"false\";"
  done
  return 0
}

# --- images ---------------------------------------------------------------------------------------

# package_list LIST prints the sorted, de-duplicated package names of a --packages value.
package_list() {
  local spec=$1 p
  local -a out=()
  IFS=', ' read -r -a items <<<"$spec"
  for p in "${items[@]}"; do
    [[ -z $p ]] && continue
    if [[ $p == hardening ]]; then
      out+=("${hardening_packages[@]}")
    else
      [[ $p =~ ^[a-z0-9][a-z0-9.+-]+$ ]] || die "not a Debian package name: $p"
      out+=("$p")
    fi
  done
  ((${#out[@]} == 0)) || printf '%s\n' "${out[@]}" | sort -u
}

recipe_text() { sed -n '/^# --- recipe begin/,/^# --- recipe end/p' "$script"; }

# image_key PACKAGES... prints the cache key inputs: recipe, mirror, apt options, extra packages.
image_key() {
  recipe_text
  echo "--- sources"
  target_sources
  echo "--- apt options"
  target_apt_options
  echo "--- extra packages"
  printf '%s\n' "$@"
}

# image_dir PACKAGES... prints the folder of the image with these extra packages (may not exist).
image_dir() {
  local hash variant=base
  hash=$(image_key "$@" | sha256sum | cut -c1-16)
  (($# > 0)) && variant=pkgs-$(printf '%s\n' "$@" | sha256sum | cut -c1-8)
  echo "$lab/images/$variant-$hash"
}

# ensure_image [--force] PACKAGES...: builds the image unless a complete one with the same key exists.
# Concurrent callers wait on one lock, so parallel tests build it once.
ensure_image() {
  local force=0
  if [[ ${1:-} == --force ]]; then force=1; shift; fi
  local dir
  dir=$(image_dir "$@")
  mkdir -p "$lab/images"
  exec {build_lock}>"$lab/images/.lock"
  flock "$build_lock"
  if ((force)) && [[ -d $dir ]]; then
    image_in_use "$dir" && die "image $dir is in use by a running target; stop it first"
    rm -rf "$dir"
  fi
  [[ -f $dir/complete ]] || build_image "$dir" "$@"
  prune_images "$dir"
  exec {build_lock}>&-
  echo "$dir"
}

build_image() {
  local dir=$1
  shift
  local tmp=$dir.partial include
  rm -rf "$tmp" && mkdir -p "$tmp"
  include=$(printf '%s,' "${recipe_packages[@]}" "$@")
  local -a aptopts=() proxy_env=()
  local opt upstream
  while IFS= read -r opt; do
    [[ -n $opt ]] && aptopts+=(--aptopt="$opt")
  done < <(target_apt_options)
  upstream=$(host_apt_proxy)
  [[ -n $upstream ]] && proxy_env=(http_proxy="http://$upstream")
  log "building the Debian 12 rootfs $(basename "$dir") (once; about a minute)"
  local started=$SECONDS
  target_sources >"$tmp/sources.list"
  env "${proxy_env[@]}" mmdebstrap --quiet --mode=root --variant="$recipe_variant" \
    --include="${include%,}" "${aptopts[@]}" \
    "$recipe_suite" "$tmp/rootfs" "$tmp/sources.list" >"$tmp/build.log" 2>&1 ||
    { tail -n 30 "$tmp/build.log" >&2; die "mmdebstrap failed (log: $tmp/build.log)"; }
  customize_rootfs "$tmp/rootfs"
  shift_rootfs "$tmp/rootfs"
  image_key "$@" >"$tmp/recipe"
  sha256sum <"$tmp/recipe" | cut -d' ' -f1 >"$tmp/recipe.sha256"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  touch "$dir/complete"
  log "built $(basename "$dir") in $((SECONDS - started)) s ($(du -sh "$dir/rootfs" | cut -f1))"
}

# image_in_use DIR: true when a running target's overlay reads from DIR.
image_in_use() { grep -qF "lowerdir=$1/rootfs" /proc/self/mountinfo; }

# prune_images KEEP: deletes images of KEEP's variant built from an older recipe and not in use.
prune_images() {
  local keep=$1 variant old
  variant=$(basename "$keep" | sed -E 's/-[0-9a-f]{16}$//')
  for old in "$lab/images/$variant"-*; do
    [[ -d $old && $old != "$keep" ]] || continue
    image_in_use "$old" && continue
    log "removing outdated image $(basename "$old")"
    rm -rf "$old"
  done
}

# --- keys -----------------------------------------------------------------------------------------

key_path() { echo "$lab/keys/id_ed25519"; }

ensure_key() {
  local key
  key=$(key_path)
  [[ -f $key ]] && return 0
  mkdir -p "$(dirname "$key")" && chmod 0700 "$(dirname "$key")"
  ssh-keygen -q -t ed25519 -N '' -C "golden-lab" -f "$key"
}

# --- addresses ------------------------------------------------------------------------------------
# Slot K owns the /30 NET.(K/64).(4*(K%64)): .1 is the host end of the veth (and the apt proxy),
# .2 is the target. 256 slots fit in NET.0.0/22.

slot_net() { echo "$net_prefix.$(($1 / 64)).$((($1 % 64) * 4))"; }
slot_host_ip() { local n; n=$(slot_net "$1"); echo "${n%.*}.$((${n##*.} + 1))"; }
slot_target_ip() { local n; n=$(slot_net "$1"); echo "${n%.*}.$((${n##*.} + 2))"; }
slot_veth() { echo "glab$1"; }

# slot_taken_elsewhere K: the slot's veth or addresses exist but no target of ours claims them
# (another checkout's lab, or a network of this host): leave them alone.
slot_taken_elsewhere() {
  ip link show "$(slot_veth "$1")" >/dev/null 2>&1 && return 0
  ip -4 route show to match "$(slot_target_ip "$1")" | grep -qv '^default' && return 0
  return 1
}

# claim_slot NAME prints a free slot and records it for NAME; reuses NAME's previous slot.
claim_slot() {
  local name=$1 k owner
  mkdir -p "$lab/slots"
  exec {slot_lock}>"$lab/slots/.lock"
  flock "$slot_lock"
  for ((k = 0; k < max_slots; k++)); do
    [[ -f $lab/slots/$k && $(cat "$lab/slots/$k") == "$name" ]] || continue
    exec {slot_lock}>&-
    echo "$k"
    return 0
  done
  for ((k = 0; k < max_slots; k++)); do
    if [[ -f $lab/slots/$k ]]; then
      owner=$(cat "$lab/slots/$k")
      target_is_stale "$owner" || continue
      log "reclaiming address slot $k of $owner, left over from a crash or a reboot"
      stop_target "$owner"
      teardown_network "$k"
      rm -f "$lab/slots/$k"
    fi
    slot_taken_elsewhere "$k" && continue
    echo "$name" >"$lab/slots/$k"
    exec {slot_lock}>&-
    echo "$k"
    return 0
  done
  exec {slot_lock}>&-
  die "no free address slot (all $max_slots in use)"
}

# target_is_stale NAME: NAME's container is not running and nobody is starting or stopping it (its
# lock is free), e.g. after the host rebooted or the script was killed.
target_is_stale() {
  local name=$1 lock
  [[ -d $lab/targets/$name ]] || return 0
  pid_alive "$(target_dir "$name")/supervisor.pid" "_supervise $name" && return 1
  exec {lock}>"$lab/targets/$name.lock"
  if ! flock -n "$lock"; then
    exec {lock}>&-
    return 1
  fi
  exec {lock}>&-
  return 0
}

release_slot() {
  local name=$1 k
  for ((k = 0; k < max_slots; k++)); do
    [[ -f $lab/slots/$k && $(cat "$lab/slots/$k") == "$name" ]] && rm -f "$lab/slots/$k"
  done
  return 0
}

# configure_network SLOT NSPAWN_PID: addresses both ends of the veth nspawn created for this boot.
# The container's end is set from the host (nsenter into its network namespace, with the host's own
# ip binary), so the image needs no network manager, and it is redone after every reboot inside.
configure_network() {
  local k=$1 nspawn_pid=$2 veth init i own_net
  veth=$(slot_veth "$k")
  own_net=$(readlink /proc/self/ns/net)
  for ((i = 0; i < 400; i++)); do
    kill -0 "$nspawn_pid" 2>/dev/null || return 1
    init=$(pgrep -P "$nspawn_pid" | head -n1 || true)
    # nspawn creates the pair on the host and then moves eth0 into the container: wait for both.
    if [[ -n $init ]] && ip link show "$veth" >/dev/null 2>&1 &&
      [[ $(readlink "/proc/$init/ns/net" 2>/dev/null) != "$own_net" ]] &&
      nsenter --target "$init" --net ip link show eth0 >/dev/null 2>&1; then
      # No default route: the only peer the target reaches is this host's end of the veth, and the
      # host does not forward for it (the apt proxy is the only way out, to the mirror only).
      if ip addr replace "$(slot_host_ip "$k")/30" dev "$veth" && ip link set "$veth" up &&
        nsenter --target "$init" --net sh -c "ip link set lo up &&
          ip addr replace $(slot_target_ip "$k")/30 dev eth0 && ip link set eth0 up"; then
        return 0
      fi
    fi
    sleep 0.05
  done
  return 1
}

teardown_network() {
  ip link del "$(slot_veth "$1")" 2>/dev/null || true
}

# --- apt proxy ------------------------------------------------------------------------------------

start_proxy() {
  local tdir=$1 k=$2 conf=$1/proxy.conf filter=$1/proxy.filter host upstream
  : >"$filter"
  while read -r host; do
    [[ -n $host ]] && printf '^%s$\n' "${host//./\\.}" >>"$filter"
  done < <(mirror_hosts)
  upstream=$(host_apt_proxy)
  # CONNECT (https) only to port 443 and only when a mirror is https; port 0 disables it.
  local connect_port=0
  target_sources | grep -q ' https://' && connect_port=443
  touch "$tdir/proxy.log" && chown nobody:nogroup "$tdir/proxy.log"
  cat >"$conf" <<EOF
# Generated by test/target/target.sh for one target: the Debian mirror host(s) only.
User nobody
Group nogroup
Listen $(slot_host_ip "$k")
Port $proxy_port
Timeout 120
MaxClients 16
LogFile "$tdir/proxy.log"
LogLevel Notice
DisableViaHeader Yes
Allow $(slot_net "$k")/30
Filter "$filter"
FilterType ere
FilterURLs Off
FilterDefaultDeny Yes
ConnectPort $connect_port
EOF
  [[ -n $upstream ]] && echo "Upstream http $upstream" >>"$conf"
  detach "$tdir/proxy.log" tinyproxy -d -c "$conf"
  echo "$last_pid" >"$tdir/proxy.pid"
  local i
  for ((i = 0; i < 50; i++)); do
    (exec 3<>"/dev/tcp/$(slot_host_ip "$k")/$proxy_port") 2>/dev/null && return 0
    kill -0 "$(cat "$tdir/proxy.pid")" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$tdir/proxy.log" >&2
  die "the apt proxy did not start"
}

# --- targets --------------------------------------------------------------------------------------

target_dir() { echo "$lab/targets/$1"; }

# On a host whose PID 1 is systemd, nspawn registers the machine with systemd-machined and runs in
# its own scope. Elsewhere (containers, CI runners) there is nothing to register with: nspawn stays
# in the cgroup it is started in, which this script creates per target.
if [[ -d /run/systemd/system ]]; then
  nspawn_host_args=()
else
  nspawn_host_args=(--register=no --keep-unit)
fi

# forget_nspawn_state MACHINE [ROOT]: nspawn keeps a mount-propagation folder per machine and a
# lock file per root directory below /run, and leaves them behind when it is killed or when /run
# is not a tmpfs; neither means anything once the machine is gone.
forget_nspawn_state() {
  local dir=/run/systemd/nspawn/propagate/$1 root=${2:-} id
  [[ -d $dir ]] && rm -rf --one-file-system "$dir"
  if [[ -n $root ]] && id=$(stat -c '%d:%i' "$root" 2>/dev/null); then
    rm -f "/run/systemd/nspawn/locks/inode-$id"
  fi
  return 0
}

# target_cgroups NAME prints the cgroup folders of a target when no systemd manages this host: one
# in the named "systemd" v1 hierarchy and one in the unified v2 hierarchy, where they exist.
target_cgroups() {
  [[ -d /run/systemd/system ]] && return 0
  awk -v name="$1" '{
      for (i = 7; i <= NF && $i != "-"; i++) {}
      if ($(i + 1) == "cgroup2" || ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)name=systemd(,|$)/))
        print $5 "/golden-lab/" name
    }' /proc/self/mountinfo
}

# join_cgroups NAME moves this process into NAME's cgroups; nspawn then puts itself and the
# container below them (supervisor/, payload/) instead of below the root of the hierarchy.
join_cgroups() {
  local cg
  while read -r cg; do
    mkdir -p "$cg"
    echo "$BASHPID" >"$cg/cgroup.procs"
  done < <(target_cgroups "$1")
}

remove_cgroups() {
  local cg
  while read -r cg; do
    [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    rmdir "$(dirname "$cg")" 2>/dev/null || true # the shared parent, once no target is left
  done < <(target_cgroups "$1")
}

# pid_alive FILE PATTERN: the pid in FILE runs and its command line contains PATTERN (a pid file
# from before a reboot may name an unrelated process).
pid_alive() {
  local pid
  [[ -f $1 ]] || return 1
  pid=$(cat "$1")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

# leftover_pids NAME prints every process of the target, even when the nspawn that started it is
# gone: its nspawn, the processes in its cgroups, and any process whose root is its overlay.
leftover_pids() {
  local name=$1 tdir cg p
  tdir=$(target_dir "$name")
  pid_alive "$tdir/nspawn.pid" systemd-nspawn && cat "$tdir/nspawn.pid"
  while read -r cg; do
    [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
  done < <(target_cgroups "$name")
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/root" 2>/dev/null) == "$tdir/root" ]] && echo "${p#/proc/}"
  done
  return 0
}

# stop_target NAME: stops the container and its proxy, removes overlay, veth, cgroups and state.
# Safe on a target that never started or whose run crashed halfway.
stop_target() {
  local name=$1 tdir i pids cg
  tdir=$(target_dir "$name")
  [[ -d $tdir ]] && touch "$tdir/stopping"
  if pid_alive "$tdir/nspawn.pid" systemd-nspawn; then
    # SIGTERM makes nspawn send SIGRTMIN+3 to the container's systemd: an orderly poweroff.
    kill -TERM "$(cat "$tdir/nspawn.pid")" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pid_alive "$tdir/nspawn.pid" systemd-nspawn || break
      sleep 0.1
    done
  fi
  if pid_alive "$tdir/supervisor.pid" "_supervise $name"; then
    kill -TERM "$(cat "$tdir/supervisor.pid")" 2>/dev/null || true
  fi
  for ((i = 0; i < 5; i++)); do
    pids=$(leftover_pids "$name" | sort -u | grep -vx "$$" || true)
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  if pid_alive "$tdir/proxy.pid" "$tdir/proxy.conf"; then
    kill -TERM "$(cat "$tdir/proxy.pid")" 2>/dev/null || true
  fi
  remove_cgroups "$name"
  forget_nspawn_state "golden-lab-$name" "$tdir/root"
  if mountpoint -q "$tdir/root" 2>/dev/null; then
    umount "$tdir/root" 2>/dev/null || umount -l "$tdir/root"
  fi
  local k
  for ((k = 0; k < max_slots; k++)); do
    [[ -f $lab/slots/$k && $(cat "$lab/slots/$k") == "$name" ]] && teardown_network "$k"
  done
  release_slot "$name"
  rm -rf --one-file-system "$tdir"
  rm -f "$lab/targets/$name.lock"
}

# prepare_root TDIR IMAGE SLOT PORT: mounts the overlay and writes what cloud-init would at first
# boot: hostname, machine id, the build user's key, the apt proxy, the SSH port.
prepare_root() {
  local tdir=$1 image=$2 k=$3 port=$4 name root content
  name=$(basename "$tdir")
  root=$tdir/root
  mkdir -p "$tdir/upper" "$tdir/work" "$root"
  # The overlay's root directory takes its owner from the upper folder: the container's root.
  chown "$recipe_uid_base:$recipe_uid_base" "$tdir/upper"
  mount -t overlay overlay -o "lowerdir=$image/rootfs,upperdir=$tdir/upper,workdir=$tdir/work" "$root"

  # put PATH MODE UID: stdin into the target's PATH, owned by UID as the container sees it.
  put() {
    local file=$root/$1 owner=$((recipe_uid_base + $3))
    cat >"$file.lab-new"
    chmod "$2" "$file.lab-new"
    chown "$owner:$owner" "$file.lab-new"
    mv -f "$file.lab-new" "$file"
  }
  echo "$name" | put etc/hostname 0644 0
  printf '127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    "$(slot_target_ip "$k")" "$name" | put etc/hosts 0644 0
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' | sed 's/$/\n/' | put etc/machine-id 0444 0
  put "home/$build_user/.ssh/authorized_keys" 0600 "$build_uid" <"$(key_path).pub"
  {
    printf 'Acquire::http::Proxy "http://%s:%s/";\n' "$(slot_host_ip "$k")" "$proxy_port"
    printf 'Acquire::https::Proxy "http://%s:%s/";\n' "$(slot_host_ip "$k")" "$proxy_port"
  } | put etc/apt/apt.conf.d/90golden-lab-proxy 0644 0
  if [[ $port != 22 ]]; then
    content=$(sed -E "s/^#?Port .*/Port $port/" "$root/etc/ssh/sshd_config")
    printf '%s\n' "$content" | put etc/ssh/sshd_config 0644 0
  fi

  local pub address
  address=$(slot_target_ip "$k")
  [[ $port != 22 ]] && address="[$address]:$port"
  for pub in "$root"/etc/ssh/ssh_host_*_key.pub; do
    printf '%s %s\n' "$address" "$(cut -d' ' -f1,2 "$pub")"
  done >"$tdir/known_hosts"
}

# supervise NAME: runs the container and boots it again when systemd inside asks for a reboot
# (nspawn exits 133), as systemd-nspawn@.service does; configures the veth after every boot.
supervise() {
  local name=$1 tdir k rc cg pid boot=0
  tdir=$(target_dir "$name")
  k=$(cat "$tdir/slot")
  join_cgroups "$name"
  while :; do
    forget_nspawn_state "golden-lab-$name"
    systemd-nspawn --quiet --boot --directory="$tdir/root" --machine="golden-lab-$name" \
      "${nspawn_host_args[@]}" \
      --private-users="$recipe_uid_base:65536" --private-users-ownership=off \
      --network-veth-extra="$(slot_veth "$k"):eth0" \
      --console=read-only --link-journal=no --resolv-conf=off --timezone=off \
      --drop-capability=CAP_AUDIT_CONTROL &
    pid=$!
    echo "$pid" >"$tdir/nspawn.pid"
    boot=$((boot + 1))
    if configure_network "$k" "$pid"; then
      echo "$boot" >"$tdir/network.ready"
    else
      echo "target: could not configure the network of boot $boot" >&2
    fi
    rc=0
    wait "$pid" || rc=$?
    [[ $rc == 133 && ! -e $tdir/stopping ]] || break
    echo "target: reboot requested, booting again" >&2
  done
  echo "target: container exited with status $rc" >&2
}

ssh_options() {
  local name=$1 tdir
  tdir=$(target_dir "$name")
  echo "-i $(key_path) -o IdentitiesOnly=yes -o UserKnownHostsFile=$tdir/known_hosts"
  echo "-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR"
}

# wait_for_ssh NAME HOST PORT STARTED: until the build user can log in, or the boot timeout
# (counted from STARTED, in $SECONDS) runs out, or the container has stopped.
wait_for_ssh() {
  local name=$1 host=$2 port=$3 started=$4 tdir
  tdir=$(target_dir "$name")
  while ((SECONDS - started < boot_timeout)); do
    if ! pid_alive "$tdir/supervisor.pid" "_supervise $name"; then
      log "the container of $name stopped while booting; console and journal follow"
      show_logs "$name" >&2
      return 1
    fi
    # shellcheck disable=SC2046 # ssh_options are words
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null &&
      ssh $(ssh_options "$name") -p "$port" "$build_user@$host" true 2>/dev/null; then
      return 0
    fi
    sleep 0.3
  done
  log "SSH on $host:$port did not answer within ${boot_timeout}s; console and journal follow"
  show_logs "$name" >&2
  return 1
}

show_logs() {
  local name=$1 tdir
  tdir=$(target_dir "$name")
  echo "--- console ($tdir/console.log)"
  tail -n 40 "$tdir/console.log" 2>/dev/null || true
  if [[ -d $tdir/root/var/log/journal ]]; then
    echo "--- journal"
    journalctl --no-pager -q -D "$tdir/root/var/log/journal" -n 60 2>/dev/null || true
  fi
}

print_info() {
  local tdir
  tdir=$(target_dir "$1")
  cat "$tdir/info"
}

# detach LOG COMMAND...: runs COMMAND in its own session, output to LOG, without the lock file
# descriptors this script holds (a child keeping them would hold the locks for its whole life).
detach() {
  local log=$1
  shift
  (
    [[ -n ${name_lock:-} ]] && exec {name_lock}>&-
    exec setsid "$@"
  ) </dev/null >>"$log" 2>&1 &
  last_pid=$!
}

lock_name() {
  mkdir -p "$lab/targets"
  exec {name_lock}>"$lab/targets/$1.lock"
  flock "$name_lock"
}

unlock_name() {
  exec {name_lock}>&-
  name_lock=''
}

start_target() {
  local name=$1 port=$2
  shift 2
  local tdir image k host i started=$SECONDS
  tdir=$(target_dir "$name")
  lock_name "$name"
  if [[ -d $tdir ]]; then
    log "removing what a previous run of $name left"
    stop_target "$name"
  fi
  image=$(ensure_image "$@")
  ensure_key
  # From here on, any failure tears down what exists so far.
  trap 'stop_target "$name"' EXIT
  mkdir -p "$tdir"
  printf '%s\n' "$@" >"$tdir/packages"
  echo "$port" >"$tdir/port"
  k=$(claim_slot "$name")
  echo "$k" >"$tdir/slot"
  host=$(slot_target_ip "$k")
  prepare_root "$tdir" "$image" "$k" "$port"
  detach "$tdir/console.log" "$script" _supervise "$name"
  echo "$last_pid" >"$tdir/supervisor.pid"
  for ((i = 0; i < 200; i++)); do
    [[ -f $tdir/network.ready ]] && break
    pid_alive "$tdir/supervisor.pid" "_supervise $name" || break
    sleep 0.05
  done
  if [[ ! -f $tdir/network.ready ]]; then
    show_logs "$name" >&2
    die "target $name: the container did not start"
  fi
  start_proxy "$tdir" "$k"
  if ! wait_for_ssh "$name" "$host" "$port" "$started"; then
    die "target $name did not come up"
  fi
  cat >"$tdir/info" <<INFO
name=$name
host=$host
port=$port
user=$build_user
key=$(key_path)
known_hosts=$tdir/known_hosts
proxy=http://$(slot_host_ip "$k"):$proxy_port
INFO
  trap - EXIT
  unlock_name
  log "target $name up in $((SECONDS - started)) s: ssh -i $(key_path) -p $port $build_user@$host"
  print_info "$name"
}

running_targets() {
  local d
  for d in "$lab"/targets/*/; do
    [[ -d $d ]] && basename "$d"
  done
  return 0
}

need_running() {
  [[ -f $(target_dir "$1")/info ]] || die "target $1 is not running (start it: $0 start $1)"
}

# info_value NAME KEY
info_value() { sed -n "s/^$2=//p" "$(target_dir "$1")/info"; }

# parse_start_args: NAME, --packages, --port into the globals name, packages, port.
parse_start_args() {
  name=dev packages='' port=22
  while (($#)); do
    case $1 in
      --packages) packages=${2:?--packages needs a list}; shift 2 ;;
      --packages=*) packages=${1#*=}; shift ;;
      --port) port=${2:?--port needs a number}; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      -*) die "unknown option $1" ;;
      *) name=$1; shift ;;
    esac
  done
  valid_name "$name" || die "invalid target name '$name' (want [a-z0-9][a-z0-9-]{0,39})"
  if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then die "invalid port $port"; fi
}

main() {
  local cmd=${1:-help}
  shift || true
  case $cmd in
    build)
      require_root
      ensure_host_packages
      load_host_apt_config
      local force='' spec=''
      while (($#)); do
        case $1 in
          --force) force=--force; shift ;;
          --packages) spec=${2:?}; shift 2 ;;
          --packages=*) spec=${1#*=}; shift ;;
          *) die "unknown build option $1" ;;
        esac
      done
      local -a pkgs
      mapfile -t pkgs < <(package_list "$spec")
      ensure_image $force "${pkgs[@]}"
      ;;
    start)
      require_root
      ensure_host_packages
      load_host_apt_config
      parse_start_args "$@"
      local -a pkgs
      mapfile -t pkgs < <(package_list "$packages")
      start_target "$name" "$port" "${pkgs[@]}"
      ;;
    reset)
      require_root
      load_host_apt_config
      local name=${1:-dev} tdir
      tdir=$(target_dir "$name")
      local port=22
      local -a pkgs=()
      [[ -f $tdir/port ]] && port=$(cat "$tdir/port")
      [[ -f $tdir/packages ]] && mapfile -t pkgs < <(grep . "$tdir/packages" || true)
      start_target "$name" "$port" "${pkgs[@]}"
      ;;
    stop)
      require_root
      local -a names=("$@")
      [[ ${1:-} == --all ]] && mapfile -t names < <(running_targets)
      ((${#names[@]})) || [[ ${1:-} == --all ]] || die "usage: $0 stop NAME... | --all"
      local n
      for n in "${names[@]}"; do
        valid_name "$n" || die "invalid target name '$n'"
        lock_name "$n"
        stop_target "$n"
        unlock_name
        log "stopped $n"
      done
      ;;
    ssh)
      local name=dev
      if (($#)) && valid_name "$1" && [[ -d $(target_dir "$1") ]]; then name=$1; shift; fi
      need_running "$name"
      # shellcheck disable=SC2046
      exec ssh $(ssh_options "$name") -p "$(info_value "$name" port)" \
        "$build_user@$(info_value "$name" host)" "$@"
      ;;
    env)
      local name=${1:-dev}
      need_running "$name"
      local key value
      while IFS='=' read -r key value; do
        printf 'export GOLDEN_TARGET_%s=%q\n' "${key^^}" "$value"
      done <"$(target_dir "$name")/info"
      ;;
    status)
      local -a names=("$@") n state
      ((${#names[@]})) || mapfile -t names < <(running_targets)
      for n in "${names[@]}"; do
        state=down
        if [[ -f $(target_dir "$n")/info ]] &&
          (exec 3<>"/dev/tcp/$(info_value "$n" host)/$(info_value "$n" port)") 2>/dev/null; then
          state="up $(info_value "$n" host):$(info_value "$n" port)"
        fi
        printf '%-40s %s\n' "$n" "$state"
      done
      ;;
    logs)
      show_logs "${1:-dev}"
      ;;
    clean)
      require_root
      "$script" stop --all
      rm -rf "$lab/images" "$lab/slots"
      log "removed every target and cached image"
      ;;
    _supervise)
      supervise "$1"
      ;;
    help | -h | --help)
      sed -n '2,/^set -euo/p' "$script" | sed '$d; s/^# \{0,1\}//'
      ;;
    *)
      die "unknown command $cmd (try: $0 help)"
      ;;
  esac
}

main "$@"
