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
#   start [NAME] [--packages LIST] [--port N] [--owner PID]
#                                       boot a fresh target and wait until SSH answers; prints
#                                       name/host/port/user/key/known_hosts as key=value lines.
#                                       With --owner, the target stops itself once process PID
#                                       is gone (a test binary that was killed)
#   reset [NAME]                        stop + start again from the pristine image, same options
#   stop NAME... | --all                stop, remove the overlay, veth, cgroups and proxy
#   ssh [NAME] [COMMAND...]             ssh into a running target as the build user
#   env [NAME]                          shell exports for a running target (eval "$(... env)")
#   status [NAME]                       list targets and whether they answer
#   logs [NAME]                         console output and the journal tail of a target
#   clean                               stop every target and delete every cached image
#
# Machines (internal/labmachine; cloud images booted like EC2 instances, see docs/test-lab.md):
#   images                              list the operating systems machines boot
#   image [--force] OS                  build (or reuse) the cloud image of OS (OS+hardening: with
#                                       the hardening packages installed; OS+ansible: and python3-apt)
#   vm-image OS                         build (or reuse) OS's cloud image as a qemu disk with a
#                                       kernel (make e2e-vm; see docs/test-lab.md, "The VM suite")
#   machine-start NAME --os OS --imds 127.0.0.1:PORT [--layers L,...] [--ingress RULES] [--owner PID]
#   machine-stop | machine-boot | machine-reboot | machine-terminate NAME
#   capture NAME [--owner PID]          copy the machine's disk into a new layer, print its id
#   release-layer LAYER                 delete a layer no disk uses
#   ingress NAME RULES                  replace a machine's ingress rules (PROTO:FROM-TO:CIDR,...;...)
#   keeper --owner PID                  once PID ends, remove its machines and layers
#
# LIST is comma-separated Debian package names; "hardening" stands for the packages golden-harden's
# profiles install (see hardening_packages below). NAME defaults to "dev" and must match
# [a-z0-9][a-z0-9-]{0,39}.
#
# Environment:
#   GOLDEN_LAB_DIR           state folder (default: <repo>/.lab)
#   GOLDEN_LAB_IMAGES        where the built images are kept (default: the state folder's images/);
#                            .ci/run keeps them outside the clone, so that CI builds each one once
#   GOLDEN_LAB_NET           first two octets of the private block; targets use NET.0.0/22 (default: 10.213)
#   GOLDEN_LAB_BOOT_TIMEOUT  seconds to wait for SSH after boot (default: 120)
#   GOLDEN_LAB_UBUNTU_MIRRORS  Ubuntu's archives for machines, "ARCHIVE [SECURITY]"
#
# Everything this script starts, it stops; `start` first removes whatever a crashed run left
# behind (the same NAME, and targets whose owner or supervisor is gone). Must run as root on a
# Debian-like host.
set -euo pipefail

script=$(readlink -f "$0")
repo=$(cd "$(dirname "$script")/../.." && pwd)
lab=${GOLDEN_LAB_DIR:-$repo/.lab}
lab=$(mkdir -p "$lab" && cd "$lab" && pwd)
# The built images (each in a folder named by the hash of its recipe, so any number of checkouts
# and runs can share them): GOLDEN_LAB_IMAGES, or images/ in the lab's folder.
images=${GOLDEN_LAB_IMAGES:-$lab/images}
images=$(mkdir -p "$images" && cd "$images" && pwd)
net_prefix=${GOLDEN_LAB_NET:-10.213}
boot_timeout=${GOLDEN_LAB_BOOT_TIMEOUT:-120}
# What every lab on this host shares: the veth names and address slots, the "golden-lab" cgroup,
# apt. Below /run, so a reboot of the host forgets it.
host_state=/run/golden-lab
# Kernel objects (cgroups, nspawn machines) are host-wide too: their names carry this lab's id, so
# two checkouts can each run a target called "dev".
lab_id=$(printf '%s' "$lab" | sha256sum | cut -c1-8)

build_user='admin'
build_uid=1000
proxy_port=3128
max_slots=256
# What golden-harden's profiles install (ufw, auditd, fail2ban, chrony, pam and accounting modules,
# debsums, and the packages module's default list), so that tests on this variant never need the
# mirror.
# test/e2e/lab.HardeningPackages names the same list; TestLabPreinstalledPackages checks it against
# the controls' fixes.
hardening_packages=(ufw auditd audispd-plugins fail2ban python3-systemd chrony libpam-pwquality cracklib-runtime libpam-tmpdir debsums acct sudo cron ca-certificates curl wget git vim htop tree unzip jq gnupg lsb-release python3-venv rsyslog)
host_packages=(mmdebstrap systemd-container tinyproxy-bin iproute2 openssh-client util-linux procps dnsmasq-base nftables curl)

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

# --- cloud recipe begin ---------------------------------------------------------------------------
# The machines' base images (`image OS`, `machine-start --os OS`): root filesystems shaped like the
# vendors' EC2 images, booted by the real cloud-init from the metadata service. Hashed into their
# own cache keys, apart from the Debian 12 target's recipe above, so that editing one does not
# rebuild the other.
cloud_oses=(debian-12 debian-13 ubuntu-22.04 ubuntu-24.04 ubuntu-26.04)

# Ubuntu's package archives: "ARCHIVE [SECURITY]", the archive of the suites and -updates, then the
# one of -security (the archive itself when left out). The one setting that names Ubuntu mirrors;
# its default is the pair Ubuntu's own images use.
ubuntu_mirrors=${GOLDEN_LAB_UBUNTU_MIRRORS:-http://archive.ubuntu.com/ubuntu http://security.ubuntu.com/ubuntu}
# Ubuntu's archive keyring, from the archive's own pool (Debian 12 has no ubuntu-keyring): the deb
# below, checked against this SHA-256 before its keyring verifies any suite.
ubuntu_keyring_deb=pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb
ubuntu_keyring_sha256=36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8

# What every cloud image has: systemd, sshd, sudo, the real cloud-init and what it runs.
cloud_common_packages=(
  systemd systemd-sysv dbus libpam-systemd udev
  openssh-server sudo cloud-init python3
  iproute2 netbase ca-certificates tzdata kmod procps
  less curl gnupg lsb-release locales
)

# cloud_os_vars OS sets, for one operating system: suite, vendor (debian/ubuntu), the default user
# its EC2 images log in with, and the packages that make it look like the vendor's image: the
# network stack that runs the DHCP client, the time daemon, and what the vendor adds.
cloud_os_vars() {
  case $1 in
    debian-12)
      os_suite=bookworm os_vendor=debian os_user=admin
      # Debian 12's EC2 images: netplan rendering for systemd-networkd (whose DHCP client holds
      # 68/udp), chrony.
      os_packages=(netplan.io chrony linux-base debconf-utils) ;;
    debian-13)
      os_suite=trixie os_vendor=debian os_user=admin
      # Debian 13's: netplan rendering for systemd-networkd (whose DHCP client holds 68/udp), chrony.
      os_packages=(netplan.io systemd-resolved chrony linux-base debconf-utils) ;;
    ubuntu-22.04)
      os_suite=jammy os_vendor=ubuntu os_user=ubuntu
      os_packages=(ubuntu-keyring netplan.io systemd-timesyncd) ;;
    ubuntu-24.04)
      os_suite=noble os_vendor=ubuntu os_user=ubuntu
      os_packages=(ubuntu-keyring netplan.io systemd-resolved systemd-timesyncd) ;;
    ubuntu-26.04)
      # sudo-rs and the Rust coreutils are 26.04's defaults; chrony replaced timesyncd in 25.10.
      os_suite=resolute os_vendor=ubuntu os_user=ubuntu
      os_packages=(ubuntu-keyring netplan.io systemd-resolved chrony sudo-rs rust-coreutils) ;;
    *) die "unknown operating system '$1' (one of: ${cloud_oses[*]})" ;;
  esac
}

# customize_cloud_rootfs DIR OS: what the vendor's image build leaves that a package install does
# not, and what makes cloud-init run in a container (see docs/test-lab.md, "cloud-init").
customize_cloud_rootfs() {
  local dir=$1 os=$2
  cloud_os_vars "$os"
  # The data source: EC2's metadata service, and nothing else to probe. strict_id false: in a
  # container cloud-init cannot read EC2's DMI identity (no /sys/class/dmi), so it would not trust
  # the platform otherwise. The lab's sources.list stays: the regional EC2 mirrors do not exist here.
  # 90_dpkg.cfg is where the package's debconf question puts the list; the vendors' EC2 images
  # answer it with Ec2.
  printf '# to update this file, run dpkg-reconfigure cloud-init\ndatasource_list: [ Ec2, None ]\n' \
    >"$dir/etc/cloud/cloud.cfg.d/90_dpkg.cfg"
  cat >"$dir/etc/cloud/cloud.cfg.d/99_golden_lab.cfg" <<'CFG'
# test lab: the EC2 data source without platform identification (no EC2 DMI in a container)
# and the first NIC by name: a veth has no permanent MAC address for netplan's match.
network:
  version: 2
  ethernets:
    ens5:
      dhcp4: true
datasource:
  Ec2:
    strict_id: false
    metadata_urls: [ 'http://169.254.169.254' ]
    max_wait: 120
    timeout: 5
apt:
  preserve_sources_list: true
# The network is up from the local stage's configuration (networkd read it before cloud-init's
# network stage); activating it again runs `netplan apply`, which needs udev, absent in a
# container. Hotplug (on by default for Ec2) would install a udev rule, for the same absent udev.
disable_network_activation: true
updates:
  network:
    when: [boot-new-instance]
CFG
  if [[ $os_vendor == debian ]]; then
    # Debian's EC2 images log in as admin (the package's own default user is "debian").
    cat >"$dir/etc/cloud/cloud.cfg.d/01_debian_cloud.cfg" <<'CFG'
system_info:
  default_user:
    name: admin
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
    lock_passwd: true
    gecos: Debian
    groups: [adm, audio, cdrom, dialout, dip, floppy, plugdev, sudo, video]
    shell: /bin/bash
manage_etc_hosts: true
CFG
  fi
  # Debian's cloud-init sets en_US.UTF-8 by default: enabled here, generated by the build's
  # locale-gen hook (Ubuntu's locales package generates it on its own).
  if [[ $os_vendor == debian ]] && ! grep -q '^en_US.UTF-8 UTF-8' "$dir/etc/locale.gen" 2>/dev/null; then
    echo 'en_US.UTF-8 UTF-8' >>"$dir/etc/locale.gen"
  fi
  # mmdebstrap copies the build host's name; cloud-init names the machine from the metadata.
  echo localhost >"$dir/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
  # mmdebstrap copies the build host's resolv.conf too: its name servers are out of the machine's
  # reach, and every lookup would wait for them. No DNS in the lab (a symlink to resolved's stub
  # stays).
  [[ -L $dir/etc/resolv.conf ]] || : >"$dir/etc/resolv.conf"
  # Host keys are made per machine by cloud-init at its first boot (ssh_genkeytypes), never shared.
  rm -f "$dir"/etc/ssh/ssh_host_*
  install -d -m 2755 "$dir/var/log/journal"
  : >"$dir/etc/machine-id"
  rm -f "$dir/var/lib/dbus/machine-id"
  # nspawn's read-only console has no login to offer; no hardware clock.
  ln -sf /dev/null "$dir/etc/systemd/system/console-getty.service"
  ln -sf /dev/null "$dir/etc/systemd/system/systemd-hwdb-update.service"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
}
# own_apt_folders DIR: mmdebstrap runs the build host's apt, which leaves apt's download folders
# (lists/partial, archives/partial) to the host's _apt uid. The vendor's image has them owned by
# its own _apt, whose uid differs where the release creates that account in apt's postinst (Ubuntu
# 22.04: 100, the host's is 42): left as they are, they are files of no known owner, which CIS's
# unowned-files check reports on a machine where no apt has run yet.
own_apt_folders() {
  local dir=$1 uid f
  uid=$(awk -F: '$1 == "_apt" { print $3 }' "$dir/etc/passwd")
  [[ -n $uid ]] || return 0
  for f in var/lib/apt/lists/partial var/cache/apt/archives/partial; do
    if [[ -d $dir/$f ]]; then chown "$uid:0" "$dir/$f"; fi
  done
}
# --- cloud recipe end -----------------------------------------------------------------------------

# --- locks ----------------------------------------------------------------------------------------
# Every decision two runs could take at once (which slot, which image, creating the shared cgroup,
# apt) is made under a flock. Lock descriptors are never passed on to the long-lived processes
# (detach closes them), or those would hold the lock for their whole life. Lock variables are
# globals named after their lock (name_lock, image_lock, slots_lock...), none taken twice at once.

# lock VAR PATH: waits for an exclusive lock on PATH and keeps its descriptor in VAR.
lock() { lock_path "$1" "$2" ''; }

# try_lock VAR PATH: lock, but fails at once when someone else holds it.
try_lock() { lock_path "$1" "$2" -n; }

# lock_path VAR PATH FLOCK_OPTION: a holder may delete its lock file (stop removes a target's); a
# waiter that was queued on the deleted file opens the path again, so that two processes never both
# "hold" one lock through two different files.
lock_path() {
  local var=$1 path=$2 opt=$3 fd
  mkdir -p "$(dirname "$path")"
  while :; do
    exec {fd}>>"$path"
    if ! flock ${opt:+"$opt"} "$fd"; then
      exec {fd}>&-
      return 1
    fi
    if [[ $(stat -c %d:%i "$path" 2>/dev/null) == "$(stat -L -c %d:%i "/proc/$BASHPID/fd/$fd")" ]]; then
      printf -v "$var" %s "$fd"
      return 0
    fi
    exec {fd}>&-
  done
}

# unlock VAR: releases the lock whose descriptor VAR holds (nothing when it holds none).
unlock() {
  local fd=${!1:-}
  if [[ -n $fd ]]; then exec {fd}>&-; fi
  printf -v "$1" %s ''
}

# shift_rootfs DIR: moves every file of DIR into the container's uid range. systemd-nspawn does the
# recursive chown itself (and runs nothing of the image but /bin/true, without network).
shift_rootfs() {
  local dir=$1 machine=golden-lab-build-$$
  local out
  out=$(
    join_cgroups "build-$$"
    systemd-nspawn --quiet --directory="$dir" --machine="$machine" "${nspawn_host_args[@]}" \
      --private-users="$recipe_uid_base:65536" --private-users-ownership=chown --private-network \
      /bin/true 2>&1
  ) || { echo "$out" >&2; die "could not shift the rootfs into the container's uid range"; }
  remove_cgroups "build-$$"
  forget_nspawn_state "$machine" "$dir"
}

require_root() {
  [[ $(id -u) == 0 ]] || die "must run as root (systemd-nspawn, network namespaces, overlay mounts)"
}

# apt_get ARGS...: the host's apt-get, one run at a time (parallel starts on a fresh machine would
# otherwise fail on apt's own locks).
apt_get() {
  lock apt_lock "$host_state/apt.lock"
  DEBIAN_FRONTEND=noninteractive apt-get "$@"
  unlock apt_lock
}

# ensure_host_packages installs what the lab needs from Debian's packages, once.
ensure_host_packages() {
  local missing=() p
  for p in "${host_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing host packages: ${missing[*]}"
  apt_get update -qq
  apt_get install -y -qq "${missing[@]}" >/dev/null
}

# min_inotify_instances: the root of every target is the same host uid (the image's uid range),
# and the kernel counts inotify instances per uid: each booted target holds about 10 (systemd,
# journald, logind...). With the kernel's default of 128, the 13th target on the host, whatever
# the lab, fails to boot ("Failed to allocate manager object: Too many open files").
min_inotify_instances=2560

# ensure_host_limits raises the host's inotify instance limit to min_inotify_instances (never
# lowers it). A kernel setting of the host, until its next boot; see docs/test-lab.md.
ensure_host_limits() {
  local key=/proc/sys/fs/inotify/max_user_instances current
  current=$(cat "$key")
  ((current >= min_inotify_instances)) && return 0
  log "raising fs.inotify.max_user_instances from $current to $min_inotify_instances (about 10 per target, all targets are one host uid)"
  echo "$min_inotify_instances" >"$key"
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
    apt_get update -qq
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

# image_variant PACKAGES... prints the image's name without its hash: base, or pkgs-SETHASH.
image_variant() {
  if (($# == 0)); then
    echo base
  else
    echo "pkgs-$(printf '%s\n' "$@" | sha256sum | cut -c1-8)"
  fi
}

# image_dir PACKAGES... prints the folder of the image with these extra packages (may not exist).
image_dir() {
  local hash
  hash=$(image_key "$@" | sha256sum | cut -c1-16)
  echo "$images/$(image_variant "$@")-$hash"
}

# ensure_image [--force] PACKAGES...: builds the image unless a complete one with the same key
# exists, and sets image to its folder. It returns holding image_lock, the lock of the image's
# variant: builds of one image wait for each other, and prune_images (which runs under the same
# lock) cannot delete an image between this choice and the overlay mount that marks it in use.
# The caller unlocks once it has mounted the image, or does not need it.
ensure_image() {
  local force=''
  if [[ ${1:-} == --force ]]; then force=--force; shift; fi
  lock_image $force "$(image_variant "$@")" "$(image_dir "$@")" || build_image "$image" "$@"
  prune_images "$image"
}

# lock_image [--force] LOCK DIR: sets image to DIR and takes image_lock, the lock LOCK of its
# variant; with --force, deletes DIR unless a target or machine uses it. True when DIR is a
# complete image, false when the caller must build it.
lock_image() {
  local force=0
  if [[ $1 == --force ]]; then force=1; shift; fi
  image=$2
  lock image_lock "$images/.$1.lock"
  if ((force)) && [[ -d $image ]]; then
    image_in_use "$image" && die "image $image is in use by a running target or machine; stop it first"
    rm -rf "$image"
  fi
  [[ -f $image/complete ]]
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
# Runs under the variant's lock (ensure_image).
prune_images() {
  local keep=$1 variant old
  variant=$(basename "$keep" | sed -E 's/-[0-9a-f]{16}$//')
  for old in "$images/$variant"-*; do
    [[ -d $old && $old != "$keep" && $old != *.partial ]] || continue
    image_in_use "$old" && continue
    log "removing outdated image $(basename "$old")"
    rm -rf "$old"
  done
}

# --- keys -----------------------------------------------------------------------------------------

key_path() { echo "$lab/keys/id_ed25519"; }

# ensure_key creates the lab's key pair once. Parallel first starts wait for one another: a key
# generated twice would leave targets trusting a public key whose private half was replaced.
ensure_key() {
  local key
  key=$(key_path)
  [[ -f $key ]] && return 0
  lock key_lock "$lab/keys.lock"
  if [[ ! -f $key ]]; then
    mkdir -p "$(dirname "$key")" && chmod 0700 "$(dirname "$key")"
    rm -f "$key.new" "$key.new.pub"
    ssh-keygen -q -t ed25519 -N '' -C "golden-lab" -f "$key.new"
    mv -f "$key.new.pub" "$key.pub"
    mv -f "$key.new" "$key"
  fi
  unlock key_lock
}

# --- addresses ------------------------------------------------------------------------------------
# Slot K owns the /30 NET.(K/64).(4*(K%64)): .1 is the host end of the veth (and the apt proxy),
# .2 is the target. 256 slots fit in NET.0.0/22. The veth is glabK whatever the lab, so the slots
# are claimed host-wide: one record per slot in $host_state/slots/K (the lab's folder, then the
# target's name), written under $host_state/slots.lock.

slot_net() { echo "$net_prefix.$(($1 / 64)).$((($1 % 64) * 4))"; }
slot_host_ip() { local n; n=$(slot_net "$1"); echo "${n%.*}.$((${n##*.} + 1))"; }
slot_target_ip() { local n; n=$(slot_net "$1"); echo "${n%.*}.$((${n##*.} + 2))"; }
slot_veth() { echo "glab$1"; }
slot_record() { echo "$host_state/slots/$1"; }

# slot_taken_elsewhere K: the slot's veth, its addresses or its proxy port exist although no record
# claims the slot (a lab of an older version of this script, a network of this host, a proxy that
# outlived its target): leave it alone.
slot_taken_elsewhere() {
  ip link show "$(slot_veth "$1")" >/dev/null 2>&1 && return 0
  ip -4 route show to match "$(slot_target_ip "$1")" | grep -qv '^default' && return 0
  ss -Hltn | awk '{ print $4 }' | grep -qxF "$(slot_host_ip "$1"):$proxy_port" && return 0
  return 1
}

# record_is_stale FILE: the slot record's target folder is gone (its lab was cleaned or deleted, or
# a stop was killed halfway). Abandoned targets of this lab are stopped before (reap_targets),
# which removes their records; other labs' targets are theirs to stop.
record_is_stale() {
  local rlab rname
  { read -r rlab && read -r rname; } <"$1" 2>/dev/null || return 0
  [[ -n $rlab && -n $rname && -d $rlab/targets/$rname ]] && return 1
  return 0
}

# slot_of NAME prints the slot this lab's target NAME holds, if any.
slot_of() {
  local f rlab rname
  for f in "$host_state"/slots/*; do
    [[ -f $f ]] || continue
    { read -r rlab && read -r rname; } <"$f" 2>/dev/null || continue
    if [[ $rlab == "$lab" && $rname == "$1" ]]; then
      basename "$f"
      return 0
    fi
  done
  return 0
}

# claim_slot NAME sets slot to a free slot, recorded for NAME (or NAME's own, from a start that
# did not finish).
claim_slot() {
  local name=$1 k rec
  lock slots_lock "$host_state/slots.lock"
  mkdir -p "$host_state/slots"
  slot=$(slot_of "$name")
  if [[ -z $slot ]]; then
    for ((k = 0; k < max_slots; k++)); do
      rec=$(slot_record "$k")
      if [[ -f $rec ]]; then
        record_is_stale "$rec" || continue
        log "reclaiming address slot $k: its target is gone"
        rm -f "$rec"
      fi
      slot_taken_elsewhere "$k" && continue
      printf '%s\n%s\n' "$lab" "$name" >"$rec"
      slot=$k
      break
    done
  fi
  unlock slots_lock
  [[ -n $slot ]] || die "no free address slot (all $max_slots in use)"
}

release_slot() {
  local name=$1 k
  lock slots_lock "$host_state/slots.lock"
  k=$(slot_of "$name")
  [[ -n $k ]] && rm -f "$(slot_record "$k")"
  unlock slots_lock
}

# container_init NSPAWN_PID prints the container's PID 1: the child of nspawn that lives in another
# network namespace (nspawn's helper children share the host's until they exit).
container_init() {
  local child net own_net
  own_net=$(readlink /proc/self/ns/net)
  for child in $(pgrep -P "$1"); do
    net=$(readlink "/proc/$child/ns/net" 2>/dev/null) || continue
    if [[ -n $net && $net != "$own_net" ]]; then
      echo "$child"
      return 0
    fi
  done
  return 1
}

# configure_network SLOT NSPAWN_PID: addresses both ends of the veth nspawn created for this boot,
# waiting for it as long as a boot may take. The container's end is set from the host (nsenter into
# its network namespace, with the host's own ip binary), so the image needs no network manager, and
# it is redone after every reboot inside.
configure_network() {
  local k=$1 nspawn_pid=$2 veth init deadline=$((SECONDS + boot_timeout))
  veth=$(slot_veth "$k")
  while ((SECONDS < deadline)); do
    kill -0 "$nspawn_pid" 2>/dev/null || return 1
    # nspawn creates the pair on the host with eth0 already in the container: wait for both.
    if init=$(container_init "$nspawn_pid") && ip link show "$veth" >/dev/null 2>&1 &&
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
  done < <(if [[ -n ${mirror_hosts_override:-} ]]; then echo "$mirror_hosts_override"; else mirror_hosts; fi)
  upstream=$(host_apt_proxy)
  # CONNECT (https) only to port 443 and only when a mirror is https; port 0 disables it.
  local connect_port=0
  if [[ -n ${mirror_hosts_override:-} ]]; then
    ((${sources_https:-0} == 0)) || connect_port=443
  elif target_sources | grep -q ' https://'; then
    connect_port=443
  fi
  touch "$tdir/proxy.log" && chown nobody:nogroup "$tdir/proxy.log"
  cat >"$conf" <<EOF
# Generated by test/target/target.sh for one target: the mirror host(s) of its image only.
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
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/$(slot_host_ip "$k")/$proxy_port") 2>/dev/null && return 0
    kill -0 "$last_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$tdir/proxy.log" >&2
  die "the apt proxy did not start"
}

# proxy_pids TDIR prints the pids of the target's proxy, found by its exact command line (the pid
# file is gone when a stop was interrupted).
proxy_pids() {
  local conf=$1/proxy.conf
  # shellcheck disable=SC2016 # sed's expression, not the shell's
  pgrep -x -f "tinyproxy -d -c $(printf '%s' "$conf" | sed 's/[]\.[*^$()+?{}|]/\\&/g')" || true
}

# stop_proxy TDIR: ends the proxy and waits until it is gone, so that the next target of the slot
# can listen on the same address.
stop_proxy() {
  local pids i
  for ((i = 0; i < 50; i++)); do
    pids=$(proxy_pids "$1")
    [[ -z $pids ]] && return 0
    # shellcheck disable=SC2086 # one pid per word
    if ((i < 30)); then kill -TERM $pids 2>/dev/null || true; else kill -KILL $pids 2>/dev/null || true; fi
    sleep 0.1
  done
  log "the proxy of $1 did not exit"
}

# --- targets --------------------------------------------------------------------------------------

target_dir() { echo "$lab/targets/$1"; }
name_lock_path() { echo "$lab/targets/$1.lock"; }
machine_name() { echo "golden-lab-$lab_id-$1"; }

# On a host whose PID 1 is systemd, nspawn registers the machine with systemd-machined and runs in
# its own scope. Elsewhere (containers, CI runners) there is nothing to register with: nspawn stays
# in the cgroup it is started in, which this script creates per target.
nspawn_extra_args=() # what a machine adds to a target's nspawn arguments (machine_platform)
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
# in the named "systemd" v1 hierarchy and one in the unified v2 hierarchy, where they exist. They
# sit below one "golden-lab" folder that every lab of the host shares.
target_cgroups() {
  [[ -d /run/systemd/system ]] && return 0
  awk -v leaf="$lab_id-$1" '{
      for (i = 7; i <= NF && $i != "-"; i++) {}
      if ($(i + 1) == "cgroup2" || ($(i + 1) == "cgroup" && $(i + 3) ~ /(^|,)name=systemd(,|$)/))
        print $5 "/golden-lab/" leaf
    }' /proc/self/mountinfo
}

# join_cgroups NAME moves this process into NAME's cgroups; nspawn then puts itself and the
# container below them (supervisor/, payload/) instead of below the root of the hierarchy. Under
# the host-wide cgroup lock: a stop removing the shared "golden-lab" folder (its last target gone)
# must not do so between this mkdir and the move.
join_cgroups() {
  local cg
  lock cgroup_lock "$host_state/cgroups.lock"
  while read -r cg; do
    mkdir -p "$cg"
    echo "$BASHPID" >"$cg/cgroup.procs"
  done < <(target_cgroups "$1")
  unlock cgroup_lock
}

# leave_cgroups NAME moves this process back to the root of each hierarchy, out of the way of a
# stop that kills whatever is left in NAME's cgroups.
leave_cgroups() {
  local cg
  while read -r cg; do
    echo "$BASHPID" >"${cg%/golden-lab/*}/cgroup.procs"
  done < <(target_cgroups "$1")
}

remove_cgroups() {
  local cg
  lock cgroup_lock "$host_state/cgroups.lock"
  while read -r cg; do
    [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    rmdir "$(dirname "$cg")" 2>/dev/null || true # the shared parent, once no target is left
  done < <(target_cgroups "$1")
  unlock cgroup_lock
}

# pid_alive FILE PATTERN: the pid in FILE runs and its command line contains PATTERN (a pid file
# from before a reboot may name an unrelated process).
pid_alive() {
  local pid
  [[ -f $1 ]] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ -n $pid ]] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

supervisor_alive() { pid_alive "$(target_dir "$1")/supervisor.pid" "_supervise $1 "; }

# proc_start_time PID prints when the process started (clock ticks after boot): with the pid, it
# names one process even once the pid is reused.
proc_start_time() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # The fields after "pid (comm) " (comm may hold spaces and parentheses); starttime is field 22.
  read -r -a fields <<<"${stat##*) }"
  echo "${fields[19]}"
}

# owner_alive TDIR: the process the target was started for (--owner) still runs; true for a
# target started without an owner.
owner_alive() {
  local pid started
  [[ -f $1/owner ]] || return 0
  read -r pid started <"$1/owner" || return 1
  [[ $(proc_start_time "$pid") == "$started" ]]
}

# target_abandoned NAME: NAME's container or its owner is gone. Only meaningful while holding
# NAME's lock: a start in progress has neither supervisor nor container yet.
target_abandoned() {
  local tdir
  tdir=$(target_dir "$1")
  owner_alive "$tdir" || return 0
  # A stopped machine has no supervisor; it is abandoned only once its owner is gone.
  [[ -f $tdir/stopped ]] && return 1
  ! supervisor_alive "$1"
}

# reap_targets: stops this lab's targets that nobody will stop: their supervisor is gone (the host
# rebooted, or everything of a run was killed) or their owner is (a killed test binary), and no
# start or stop holds their lock. Removes the lock files of starts killed before they created
# their folder.
reap_targets() {
  local n f
  while read -r n; do
    try_lock other_lock "$(name_lock_path "$n")" || continue
    if target_abandoned "$n"; then
      log "stopping $n: its owner or its container is gone"
      stop_target "$n"
    fi
    unlock other_lock
  done < <(running_targets)
  for f in "$lab"/targets/*.lock; do
    n=$(basename "$f" .lock)
    [[ -f $f && ! -d $(target_dir "$n") ]] || continue
    try_lock other_lock "$f" || continue
    [[ -d $(target_dir "$n") ]] || rm -f "$f"
    unlock other_lock
  done
}

# leftover_pids NAME prints every process of the target, even when the nspawn that started it is
# gone: its nspawn, the processes in its cgroups, and any process whose root is its overlay.
leftover_pids() {
  local name=$1 tdir cg
  tdir=$(target_dir "$name")
  pid_alive "$tdir/nspawn.pid" systemd-nspawn && cat "$tdir/nspawn.pid"
  while read -r cg; do
    [[ -d $cg ]] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null
  done < <(target_cgroups "$name")
  find /proc -mindepth 2 -maxdepth 2 -name root -lname "$tdir/root" 2>/dev/null | cut -d/ -f3
  return 0
}

# stop_target NAME: stops the container and its proxy, removes overlay, veth, cgroups and state.
# Safe on a target that never started or whose run crashed halfway. The caller holds NAME's lock.
stop_target() {
  local name=$1 tdir i pids k
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
  if supervisor_alive "$name"; then
    kill -TERM "$(cat "$tdir/supervisor.pid")" 2>/dev/null || true
  fi
  for ((i = 0; i < 10; i++)); do
    pids=$(leftover_pids "$name" | sort -u | grep -vx "$$" || true)
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  stop_proxy "$tdir"
  pids=$(dhcp_pids "$tdir")
  # shellcheck disable=SC2086 # one pid per word
  [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
  remove_cgroups "$name"
  forget_nspawn_state "$(machine_name "$name")" "$tdir/root"
  if mountpoint -q "$tdir/root" 2>/dev/null; then
    umount "$tdir/root" 2>/dev/null || umount -l "$tdir/root"
  fi
  k=$(slot_of "$name")
  if [[ -n $k ]]; then
    teardown_network "$k"
    remove_nft "$k"
    release_slot "$name"
  fi
  rm -rf --one-file-system "$tdir"
  rm -f "$(name_lock_path "$name")"
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

# watch_owner TDIR SUPERVISOR_PID: once the target's owner is gone, marks the target orphaned for
# its supervisor and asks the container to power off (again every few seconds, in case it is
# between two boots). Ends with the supervisor.
watch_owner() {
  local tdir=$1 supervisor=$2
  [[ -f $tdir/owner ]] || return 0
  while kill -0 "$supervisor" 2>/dev/null; do
    if ! owner_alive "$tdir"; then
      touch "$tdir/orphaned" "$tdir/stopping"
      if pid_alive "$tdir/nspawn.pid" systemd-nspawn; then
        kill -TERM "$(cat "$tdir/nspawn.pid")" 2>/dev/null || true
      fi
    fi
    sleep 2
  done
}

# payload_systemd_version ROOT prints the major version of the systemd in the root filesystem
# ROOT (the number libsystemd-shared is named after), or nothing when there is none.
payload_systemd_version() {
  local lib
  for lib in "$1"/usr/lib/*/systemd/libsystemd-shared-*.so "$1"/usr/lib/systemd/libsystemd-shared-*.so; do
    [[ -e $lib ]] || continue
    lib=${lib##*/libsystemd-shared-}
    echo "${lib%%[!0-9]*}"
    return 0
  done
}

# boot_container NAME NIC: starts the container of NAME in the background, its end of the veth
# named NIC; sets pid to nspawn's.
# nspawn gives a container the host's cgroup layout, and this host may mount the legacy (v1)
# hierarchies with the unified one beside them. systemd 256 and later refuse to run as PID 1 on
# the legacy layout (Ubuntu 26.04's systemd exits at once), and an EC2 instance of such a release
# boots on the unified one: those containers get the unified hierarchy of their own.
boot_container() {
  local tdir k version cgroup_env=()
  tdir=$(target_dir "$1")
  k=$(cat "$tdir/slot")
  version=$(payload_systemd_version "$tdir/root")
  if [[ -n $version ]] && ((version >= 256)); then
    cgroup_env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)
  fi
  env "${cgroup_env[@]}" systemd-nspawn --quiet --boot --directory="$tdir/root" --machine="$(machine_name "$1")" \
    "${nspawn_host_args[@]}" \
    --private-users="$recipe_uid_base:65536" --private-users-ownership=off \
    --network-veth-extra="$(slot_veth "$k"):$2" \
    --console=read-only --link-journal=no --resolv-conf=off --timezone=off \
    --drop-capability=CAP_AUDIT_CONTROL "${nspawn_extra_args[@]}" &
  pid=$!
  echo "$pid" >"$tdir/nspawn.pid"
}

# supervise NAME: runs the container and boots it again when systemd inside asks for a reboot
# (nspawn exits 133), as systemd-nspawn@.service does; configures the veth after every boot. When
# the target's owner is gone, it ends by stopping the target.
supervise() {
  local name=$1 tdir k rc pid watcher boot=0
  tdir=$(target_dir "$name")
  k=$(cat "$tdir/slot")
  join_cgroups "$name"
  watch_owner "$tdir" "$$" &
  watcher=$!
  while :; do
    forget_nspawn_state "$(machine_name "$name")"
    # nspawn cannot create the veth while the previous boot's pair still exists.
    teardown_network "$k"
    boot_container "$name" eth0
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
  kill "$watcher" 2>/dev/null || true
  echo "target: container exited with status $rc" >&2
  if [[ -e $tdir/orphaned ]]; then
    echo "target: its owner is gone: stopping $name" >&2
    leave_cgroups "$name"
    exec "$script" stop "$name"
  fi
}

ssh_options() {
  local name=$1 tdir
  tdir=$(target_dir "$name")
  echo "-i $(key_path) -o IdentitiesOnly=yes -o UserKnownHostsFile=$tdir/known_hosts"
  echo "-o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR"
}

# wait_for_network NAME SUPERVISOR_PID DEADLINE: until the supervisor has addressed the veth of
# the first boot, the supervisor has ended, or the deadline (in $SECONDS) has passed.
wait_for_network() {
  local tdir supervisor=$2 deadline=$3
  tdir=$(target_dir "$1")
  # The supervisor is this script's own child: kill -0 tells whether it runs, even before it has
  # exec'd into the script (its command line says "_supervise" only from then on).
  while ((SECONDS < deadline)) && [[ ! -f $tdir/network.ready ]] && kill -0 "$supervisor" 2>/dev/null; do
    sleep 0.1
  done
  [[ -f $tdir/network.ready ]]
}

# wait_for_ssh NAME HOST PORT SUPERVISOR_PID DEADLINE: until the build user can log in, or the
# deadline (in $SECONDS) has passed, or the container has stopped.
wait_for_ssh() {
  local name=$1 host=$2 port=$3 supervisor=$4 deadline=$5 tdir
  tdir=$(target_dir "$name")
  while ((SECONDS < deadline)); do
    if ! kill -0 "$supervisor" 2>/dev/null || [[ -e $tdir/orphaned ]]; then
      log "the container of $name stopped while booting"
      return 1
    fi
    # shellcheck disable=SC2046 # ssh_options are words
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null &&
      ssh $(ssh_options "$name") -p "$port" "$build_user@$host" true 2>/dev/null; then
      return 0
    fi
    sleep 0.3
  done
  log "SSH on $host:$port did not answer within ${boot_timeout}s"
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

# detach LOG COMMAND...: runs COMMAND in its own session, output to LOG, without any descriptor
# beyond stdin/stdout/stderr: a child keeping a lock's descriptor would hold the lock for its whole
# life, and one keeping the caller's stdout would keep a test waiting for its end.
detach() {
  local log=$1
  shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec setsid "$@"
  ) </dev/null >>"$log" 2>&1 &
  last_pid=$!
}

start_target() {
  local name=$1 port=$2 owner=$3
  shift 3
  local tdir host supervisor deadline started=$SECONDS started_at
  tdir=$(target_dir "$name")
  lock name_lock "$(name_lock_path "$name")"
  if [[ -d $tdir ]]; then
    log "removing what a previous run of $name left"
    stop_target "$name"
  fi
  reap_targets
  ensure_image "$@"
  ensure_key
  # From here on, any failure tears down what exists so far.
  trap 'show_logs "$name" >&2; stop_target "$name"' EXIT
  mkdir -p "$tdir"
  printf '%s\n' "$@" >"$tdir/packages"
  echo "$port" >"$tdir/port"
  if [[ -n $owner ]]; then
    started_at=$(proc_start_time "$owner") || die "owner process $owner is not running"
    echo "$owner $started_at" >"$tdir/owner"
  fi
  claim_slot "$name"
  echo "$slot" >"$tdir/slot"
  host=$(slot_target_ip "$slot")
  prepare_root "$tdir" "$image" "$slot" "$port"
  # Mounted: from now on prune_images sees the image in use.
  unlock image_lock
  # The boot gets its whole timeout, however long the image build or the locks took.
  deadline=$((SECONDS + boot_timeout))
  detach "$tdir/console.log" "$script" _supervise "$name"
  supervisor=$last_pid
  echo "$supervisor" >"$tdir/supervisor.pid"
  wait_for_network "$name" "$supervisor" "$deadline" || die "target $name: the container did not start"
  start_proxy "$tdir" "$slot"
  wait_for_ssh "$name" "$host" "$port" "$supervisor" "$deadline" || die "target $name did not come up"
  cat >"$tdir/info" <<INFO
name=$name
host=$host
port=$port
user=$build_user
key=$(key_path)
known_hosts=$tdir/known_hosts
proxy=http://$(slot_host_ip "$slot"):$proxy_port
INFO
  trap - EXIT
  unlock name_lock
  log "target $name up in $((SECONDS - started)) s: ssh -i $(key_path) -p $port $build_user@$host"
  print_info "$name"
}

# --- cloud images ---------------------------------------------------------------------------------

cloud_recipe_text() { sed -n '/^# --- cloud recipe begin/,/^# --- cloud recipe end/p' "$script"; }

# ubuntu_archive / ubuntu_security print the two halves of ubuntu_mirrors.
ubuntu_archive() { read -r a _ <<<"$ubuntu_mirrors"; echo "${a%/}"; }
ubuntu_security() {
  local a s
  read -r a s <<<"$ubuntu_mirrors"
  s=${s:-$a}
  echo "${s%/}"
}

# An OS may name a variant of a release's cloud image: OS+hardening is OS's image with the
# hardening packages already installed, for the benchmarks, which time golden-harden on machines
# without the package mirror (bench/README.md); OS+ansible adds python3-apt, which Ansible's apt
# module needs, for the comparison with Ansible. Cached under its own key, beside OS's image.
# cloud_release OS prints the release (debian-12 for debian-12+hardening).
cloud_release() { echo "${1%%+*}"; }

# cloud_variant_packages OS prints the packages a variant adds to its release's image.
cloud_variant_packages() {
  case $1 in
    *+hardening) printf '%s\n' "${hardening_packages[@]}" ;;
    *+ansible) printf '%s\n' "${hardening_packages[@]}" python3-apt ;;
    *+*) die "unknown image variant: $1 (OS+hardening or OS+ansible)" ;;
  esac
}

# cloud_sources OS prints the image's sources.list: the host's Debian mirror(s) for Debian, the
# ubuntu_mirrors setting for Ubuntu (main and universe, as Ubuntu's cloud images).
cloud_sources() {
  cloud_os_vars "$(cloud_release "$1")"
  if [[ $os_vendor == ubuntu ]]; then
    echo "deb $(ubuntu_archive) $os_suite main universe"
    echo "deb $(ubuntu_archive) $os_suite-updates main universe"
    echo "deb $(ubuntu_security) $os_suite-security main universe"
  else
    target_sources | sed -E "s/ $recipe_suite(-[a-z]+)? / $os_suite\\1 /"
  fi
}

cloud_image_key() {
  cloud_recipe_text
  echo "--- os $1"
  echo "--- sources"
  cloud_sources "$1"
  echo "--- apt options"
  target_apt_options
  if [[ $1 == *+* ]]; then
    echo "--- extra packages"
    cloud_variant_packages "$1"
  fi
}

cloud_image_dir() {
  local hash
  hash=$(cloud_image_key "$1" | sha256sum | cut -c1-16)
  echo "$images/cloud-$1-$hash"
}

# ubuntu_keyring prints the path of Ubuntu's archive keyring, fetched once from the archive's pool
# (through the host's apt proxy, if any) and checked against ubuntu_keyring_sha256.
ubuntu_keyring() {
  local dir=$images/.ubuntu-keyring deb upstream
  local ring=$dir/usr/share/keyrings/ubuntu-archive-keyring.gpg
  if [[ ! -f $ring ]]; then
    lock keyring_lock "$images/.ubuntu-keyring.lock"
    if [[ ! -f $ring ]]; then
      rm -rf "$dir" && mkdir -p "$dir"
      deb=$dir/keyring.deb
      upstream=$(host_apt_proxy)
      env ${upstream:+http_proxy="http://$upstream"} curl -fsSL --retry 3 -o "$deb" \
        "$(ubuntu_archive)/$ubuntu_keyring_deb" >&2 || die "could not fetch Ubuntu's keyring package"
      if [[ $(sha256sum <"$deb" | cut -d' ' -f1) != "$ubuntu_keyring_sha256" ]]; then
        rm -rf "$dir"
        die "Ubuntu's keyring package does not match its pinned SHA-256"
      fi
      dpkg-deb -x "$deb" "$dir"
    fi
    unlock keyring_lock
  fi
  echo "$ring"
}

# ensure_cloud_image [--force] OS: like ensure_image, for a machine's base image. Returns holding
# image_lock; sets image.
ensure_cloud_image() {
  local force=''
  if [[ ${1:-} == --force ]]; then force=--force; shift; fi
  lock_image $force "cloud-$1" "$(cloud_image_dir "$1")" || build_cloud_image "$image" "$1"
  prune_images "$image"
}

build_cloud_image() {
  local dir=$1 os=$2 tmp=$1.partial include opt upstream release
  rm -rf "$tmp" && mkdir -p "$tmp"
  release=$(cloud_release "$os")
  cloud_os_vars "$release"
  local -a extra=()
  mapfile -t extra < <(cloud_variant_packages "$os")
  # chrony replaces a release's systemd-timesyncd (the two conflict), as golden-harden's chrony
  # module's install does.
  if [[ " ${extra[*]} " == *" chrony "* ]]; then
    local -a kept=()
    for opt in "${os_packages[@]}"; do [[ $opt == systemd-timesyncd ]] || kept+=("$opt"); done
    os_packages=("${kept[@]}")
  fi
  include=$(printf '%s,' "${cloud_common_packages[@]}" "${os_packages[@]}" "${extra[@]}")
  local -a opts=() proxy_env=()
  while IFS= read -r opt; do
    [[ -n $opt ]] && opts+=(--aptopt="$opt")
  done < <(target_apt_options)
  if [[ $os_vendor == ubuntu ]]; then
    local ring
    ring=$(ubuntu_keyring)
    opts+=(--keyring="$ring" --components="main,universe")
  fi
  upstream=$(host_apt_proxy)
  [[ -n $upstream ]] && proxy_env=(http_proxy="http://$upstream")
  log "building the $os cloud image $(basename "$dir") (once; a minute or two)"
  local started=$SECONDS
  cloud_sources "$os" >"$tmp/sources.list"
  # customize_cloud_rootfs runs as a hook, before the one step that runs a program of the image:
  # Debian's locale-gen, for the locale it enabled.
  # shellcheck disable=SC2016 # $1 is the hook's argument, for mmdebstrap's shell
  [[ $os_vendor == debian ]] && opts+=(--customize-hook='chroot "$1" locale-gen')
  env "${proxy_env[@]}" mmdebstrap --quiet --mode=root --variant=apt --include="${include%,}" \
    --customize-hook="\"$script\" _customize \"\$1\" $release" "${opts[@]}" \
    "$os_suite" "$tmp/rootfs" "$tmp/sources.list" >"$tmp/build.log" 2>&1 ||
    { tail -n 30 "$tmp/build.log" >&2; die "mmdebstrap failed (log: $tmp/build.log)"; }
  own_apt_folders "$tmp/rootfs"
  shift_rootfs "$tmp/rootfs"
  cloud_image_key "$os" >"$tmp/recipe"
  echo "$os" >"$tmp/os"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  touch "$dir/complete"
  log "built $(basename "$dir") in $((SECONDS - started)) s ($(du -sh "$dir/rootfs" | cut -f1))"
}

# --- VM disks -------------------------------------------------------------------------------------
# A VM image is a cloud image with a real kernel, for what a container cannot prove (make e2e-vm):
# the cloud image's packages plus linux-image-amd64, in an ext4 disk (disk.raw, made with
# mkfs.ext4 -d: no loop device) that qemu boots directly from the kernel and initrd beside it (no
# boot loader). cloud-init reads NoCloud from a second disk labelled cidata that the test writes;
# the NIC sits in PCI slot 5, so it is ens5 as on EC2.

vm_image_key() {
  cloud_image_key "$1"
  echo "--- vm"
  declare -p hardening_packages
  sed -n '/^# --- vm recipe begin/,/^# --- vm recipe end/p' "$script"
}

vm_image_dir() {
  local hash
  hash=$(vm_image_key "$1" | sha256sum | cut -c1-16)
  echo "$images/vm-$1-$hash"
}

# --- vm recipe begin
# The hardening packages are in the image: the VM's user-mode network reaches no package mirror.
# So is OpenSCAP's scanner, which an auditor would install from the archive (the SCAP content is
# copied in by the test, pinned like the compliance suite's).
vm_packages=(linux-image-amd64 initramfs-tools e2fsprogs openscap-scanner)
vm_disk_size=4G

# customize_vm_rootfs DIR OS: the cloud image's customization, then NoCloud as the data source
# and a root file system on the virtio disk.
customize_vm_rootfs() {
  local dir=$1
  customize_cloud_rootfs "$1" "$2"
  printf 'datasource_list: [ NoCloud, None ]\n' >"$dir/etc/cloud/cloud.cfg.d/90_dpkg.cfg"
  sed -i '/^datasource:/,/^    timeout:/d; /^disable_network_activation:/d' \
    "$dir/etc/cloud/cloud.cfg.d/99_golden_lab.cfg"
  printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$dir/etc/fstab"
}
# --- vm recipe end

ensure_vm_image() {
  lock_image "vm-$1" "$(vm_image_dir "$1")" || build_vm_image "$image" "$1"
  prune_images "$image"
}

build_vm_image() {
  local dir=$1 os=$2 tmp=$1.partial include opt upstream
  rm -rf "$tmp" && mkdir -p "$tmp"
  cloud_os_vars "$os"
  [[ $os_vendor == debian ]] || die "vm-image: only Debian images boot as VMs so far"
  include=$(printf '%s,' "${cloud_common_packages[@]}" "${os_packages[@]}" "${vm_packages[@]}" \
    "${hardening_packages[@]}")
  local -a opts=() proxy_env=()
  while IFS= read -r opt; do
    [[ -n $opt ]] && opts+=(--aptopt="$opt")
  done < <(target_apt_options)
  upstream=$(host_apt_proxy)
  [[ -n $upstream ]] && proxy_env=(http_proxy="http://$upstream")
  log "building the $os VM image $(basename "$dir") (once; several minutes)"
  local started=$SECONDS
  cloud_sources "$os" >"$tmp/sources.list"
  # shellcheck disable=SC2016 # $1 is the hook's argument, for mmdebstrap's shell
  opts+=(--customize-hook='chroot "$1" locale-gen')
  env "${proxy_env[@]}" mmdebstrap --quiet --mode=root --variant=apt --include="${include%,}" \
    --customize-hook="\"$script\" _customize_vm \"\$1\" $os" "${opts[@]}" \
    "$os_suite" "$tmp/rootfs" "$tmp/sources.list" >"$tmp/build.log" 2>&1 ||
    { tail -n 30 "$tmp/build.log" >&2; die "mmdebstrap failed (log: $tmp/build.log)"; }
  if ! cp -L "$tmp/rootfs/vmlinuz" "$tmp/vmlinuz" || ! cp -L "$tmp/rootfs/initrd.img" "$tmp/initrd.img"; then
    die "the VM image has no kernel or initrd"
  fi
  mkfs.ext4 -q -F -L root -d "$tmp/rootfs" "$tmp/disk.raw" "$vm_disk_size" >>"$tmp/build.log" 2>&1 ||
    { tail -n 30 "$tmp/build.log" >&2; die "mkfs.ext4 failed (log: $tmp/build.log)"; }
  rm -rf "$tmp/rootfs"
  vm_image_key "$os" >"$tmp/recipe"
  echo "$os" >"$tmp/os"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  touch "$dir/complete"
  log "built $(basename "$dir") in $((SECONDS - started)) s"
}

# --- machines -------------------------------------------------------------------------------------
# A machine is a target booted from a cloud image like an EC2 instance (internal/labmachine drives
# these commands): its disk is an overlay of the image's rootfs, the captured layers it was launched
# from and its own upper folder; the network comes up by DHCP (a dnsmasq on the host's end of its
# link, bound to that link only); its metadata requests to 169.254.169.254:80 are sent, with the
# machine's own address as source, to the metadata service the machine was started with; an nft
# table on the host's side of the link lets in only what its ingress rules allow and lets it reach
# only the DHCP server, the metadata service and its apt proxy. Its folder is targets/NAME, like a
# target's, so slots, locks, owners and the sweep of abandoned targets cover machines as well.

imds_address=169.254.169.254
machine_nic=ens5 # the first NIC's name on EC2's Nitro instances

layers_dir() { echo "$lab/layers"; }
is_machine() { [[ -f $(target_dir "$1")/os ]]; }
nft_table() { echo "golden-lab-$1"; }

# ingress_rules_nft RULES prints the nft rules of an ingress rule list
# "PROTO:FROM-TO:CIDR,CIDR;..." (PROTO tcp, udp, icmp or -1 for all; ports ignored for icmp, -1).
ingress_rules_nft() {
  local rule proto ports cidrs v4 v6 c match
  local -a rules
  IFS=';' read -r -a rules <<<"$1"
  for rule in "${rules[@]}"; do
    [[ -z $rule ]] && continue
    [[ $rule =~ ^(tcp|udp|icmp|-1):([0-9]{0,5}(-[0-9]{1,5})?):([0-9a-fA-F.:/,]+)$ ]] ||
      die "invalid ingress rule '$rule' (want PROTO:FROM-TO:CIDR,...)"
    proto=${BASH_REMATCH[1]} ports=${BASH_REMATCH[2]} cidrs=${BASH_REMATCH[4]}
    case $proto in
      tcp | udp)
        [[ $ports =~ ^[0-9]+-[0-9]+$ ]] || die "ingress rule '$rule' needs FROM-TO ports"
        match="$proto dport $ports" ;;
      icmp) match="meta l4proto { icmp, ipv6-icmp }" ;;
      -1) match='' ;;
    esac
    v4='' v6=''
    IFS=',' read -r -a cl <<<"$cidrs"
    for c in "${cl[@]}"; do
      if [[ $c == *:* ]]; then v6+="${v6:+, }$c"; else v4+="${v4:+, }$c"; fi
    done
    [[ -n $v4 ]] && echo "    ip saddr { $v4 } $match accept"
    [[ -n $v6 ]] && echo "    ip6 saddr { $v6 } $match accept"
  done
  return 0
}

# machine_nft NAME prints the machine's nft table: the metadata service's DNAT, what the machine
# may reach on the host, no forwarding at all, and its ingress rules.
machine_nft() {
  local tdir k veth hostip imds
  tdir=$(target_dir "$1")
  k=$(cat "$tdir/slot") imds=$(cat "$tdir/imds")
  veth=$(slot_veth "$k") hostip=$(slot_host_ip "$k")
  cat <<NFT
table inet $(nft_table "$k") {
  chain metadata {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "$veth" ip daddr $imds_address tcp dport 80 dnat ip to $imds
  }
  chain from_machine {
    type filter hook input priority filter; policy accept;
    iifname != "$veth" accept
    ct state established,related accept
    ip daddr ${imds%:*} tcp dport ${imds##*:} ct status dnat accept
    ip daddr $hostip tcp dport $proxy_port accept
    udp sport 68 udp dport 67 accept
    icmp type echo-request ip daddr $hostip accept
    drop
  }
  chain no_forwarding {
    type filter hook forward priority filter; policy accept;
    iifname "$veth" drop
    oifname "$veth" drop
  }
  chain to_machine {
    type filter hook output priority filter; policy accept;
    oifname != "$veth" accept
    ct state established,related accept
    udp sport 67 udp dport 68 accept
    jump ingress
    drop
  }
  chain ingress {
$(ingress_rules_nft "$(cat "$tdir/ingress")")
  }
}
NFT
}

# apply_nft NAME: (re)creates the machine's table in one transaction: the link is never open.
apply_nft() {
  local k table
  k=$(cat "$(target_dir "$1")/slot")
  table=$(nft_table "$k")
  { nft list table inet "$table" >/dev/null 2>&1 && echo "delete table inet $table"; machine_nft "$1"; } |
    nft -f - || die "could not load the nft table of $1"
}

remove_nft() { nft delete table inet "$(nft_table "$1")" 2>/dev/null || true; }

# set_ingress NAME RULES: the machine's new rules, in effect at once when it runs.
set_ingress() {
  local tdir
  tdir=$(target_dir "$1")
  ingress_rules_nft "$2" >/dev/null
  printf '%s\n' "$2" >"$tdir/ingress"
  if nft list table inet "$(nft_table "$(cat "$tdir/slot")")" >/dev/null 2>&1; then
    # flush and refill in one transaction: no moment without rules, none with the old ones.
    { echo "flush chain inet $(nft_table "$(cat "$tdir/slot")") ingress"
      echo "table inet $(nft_table "$(cat "$tdir/slot")") {"
      echo "  chain ingress {"
      ingress_rules_nft "$2"
      echo "  }"
      echo "}"; } | nft -f - || die "could not change the ingress rules of $1"
  fi
}

# configure_machine_link SLOT NSPAWN_PID: once nspawn has created the veth, addresses the host's
# end (the machine's end is its own DHCP client's), lets it route to 127.0.0.1 (the metadata DNAT)
# and keeps IPv6 off it.
configure_machine_link() {
  local k=$1 nspawn_pid=$2 veth deadline=$((SECONDS + boot_timeout))
  veth=$(slot_veth "$k")
  while ((SECONDS < deadline)); do
    kill -0 "$nspawn_pid" 2>/dev/null || return 1
    if container_init "$nspawn_pid" >/dev/null && ip link show "$veth" >/dev/null 2>&1; then
      echo 1 >"/proc/sys/net/ipv6/conf/$veth/disable_ipv6"
      echo 1 >"/proc/sys/net/ipv4/conf/$veth/route_localnet"
      ip addr replace "$(slot_host_ip "$k")/30" dev "$veth" && ip link set "$veth" up && return 0
    fi
    sleep 0.05
  done
  return 1
}

# start_dhcp TDIR SLOT: a dnsmasq that answers DHCP on the machine's link only (no DNS), handing
# out the machine's address with the host's end as router, like EC2's VPC DHCP. Like EC2's, it
# gives the interface its address whatever client identifier asks (--dhcp-ignore-clid: the lease
# follows the MAC address): cloud-init's ephemeral DHCP at the local stage (dhcpcd on Ubuntu 24.04,
# with its own client id) and then networkd's client must both get it. Sets dhcp_pid.
start_dhcp() {
  local tdir=$1 k=$2 ip
  ip=$(slot_target_ip "$k")
  : >"$tdir/dhcp.leases"
  dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --no-resolv --no-hosts \
    --bind-interfaces --interface="$(slot_veth "$k")" --except-interface=lo \
    --dhcp-range="$ip,$ip,255.255.255.252,1h" --dhcp-option=option:router,"$(slot_host_ip "$k")" \
    --dhcp-authoritative --dhcp-ignore-clid --dhcp-leasefile="$tdir/dhcp.leases" --user=root \
    --log-dhcp --log-facility="$tdir/dhcp.log" --pid-file="$tdir/dnsmasq.pid" &
  dhcp_pid=$!
}

dhcp_pids() {
  # shellcheck disable=SC2016 # sed's expression, not the shell's
  pgrep -f "dnsmasq .*--dhcp-leasefile=$(printf '%s' "$1/dhcp.leases" | sed 's/[]\.[*^$()+?{}|]/\\&/g')" || true
}

# The platform a machine's software sees it is on EC2 by. cloud-init's Ec2 data source treats the
# platform as AWS (asks for an IMDSv2 session token before any metadata read, as every AWS SDK does,
# and so works with HttpTokens=required) only when it identifies AWS: by the DMI product UUID, which
# it never reads in a container, or by Xen's /sys/hypervisor/uuid starting with "ec2", as on EC2's
# Xen-based instance types (t2, m4, ...). A container's sysfs has no /sys/hypervisor: the machine
# gets one of a Xen EC2 instance from a runtime unit that systemd runs early at every boot, before
# cloud-init. Unit and files are bind-mounted below /run, never written to the machine's disk.

# write_platform TDIR: the instance's hypervisor identity (a UUID starting with "ec2", fixed for the
# machine's life, as an instance's) and the unit that shows it at /sys/hypervisor.
write_platform() {
  local p=$1/platform hex
  mkdir -p "$p"
  hex=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  hex=ec2${hex:3}
  printf '%s-%s-%s-%s-%s\n' "${hex:0:8}" "${hex:8:4}" "${hex:12:4}" "${hex:16:4}" "${hex:20:12}" >"$p/uuid"
  echo xen >"$p/type"
  cat >"$p/hypervisor-sysfs" <<'SH'
#!/bin/sh
# /sys/hypervisor of a Xen-based EC2 instance, in a container whose sysfs cannot have one: a new
# read-only /sys (a tmpfs) holding every entry of the container's /sys (bound, with their
# submounts) and hypervisor/{type,uuid}, moved onto /sys in one step, so that systemd, creating
# cgroups meanwhile, always finds /sys/fs/cgroup.
set -eu
[ -e /sys/hypervisor ] && exit 0
stage=/run/golden-lab-sysfs
mkdir -p "$stage"
mount -t tmpfs -o mode=0700,size=16k tmpfs "$stage"
# a private parent: a mount below a shared one cannot be moved.
mount --make-private "$stage"
mkdir "$stage/sys"
mount -t tmpfs -o mode=0555,nosuid,nodev,noexec,size=64k tmpfs "$stage/sys"
for entry in /sys/*; do
  [ -d "$entry" ] || continue
  mkdir "$stage/sys/${entry##*/}"
  mount --rbind "$entry" "$stage/sys/${entry##*/}"
done
mkdir -m 0755 "$stage/sys/hypervisor"
for f in type uuid; do
  cp /run/golden-lab/platform/$f "$stage/sys/hypervisor/$f"
  chmod 0444 "$stage/sys/hypervisor/$f"
done
mount -o remount,bind,ro "$stage/sys"
mount --move "$stage/sys" /sys
umount "$stage"
rmdir "$stage"
SH
  cat >"$p/golden-lab-platform.service" <<'UNIT'
[Unit]
Description=EC2 platform identity of the lab machine (/sys/hypervisor)
Documentation=file:///run/golden-lab/platform/hypervisor-sysfs
DefaultDependencies=no
Before=sysinit.target cloud-init-main.service cloud-init-local.service systemd-networkd.service
ConditionPathExists=!/sys/hypervisor

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh /run/golden-lab/platform/hypervisor-sysfs
UNIT
  printf '[Unit]\nWants=golden-lab-platform.service\n' >"$p/sysinit.conf"
  # netplan 1.2 and later (Ubuntu 26.04) render the network in netplan-configure.service, which
  # then asks udev to reload and replay the network devices' events. A container has no udev
  # (systemd-udevd.service needs a writable /sys), so those two steps fail, and with them the
  # unit, after the configuration is written; an EC2 instance has udev. The lab lets them fail.
  cat >"$p/netplan-configure.conf" <<'UNIT'
[Service]
ExecStartPost=
ExecStartPost=-udevadm control --reload
ExecStartPost=-udevadm trigger --action=add --subsystem-match=net
UNIT
  # On EC2, cloud-init's network stage brings up the network its local stage rendered with
  # `netplan apply`, which starts systemd-networkd; the lab turns that activation off (it needs
  # udev too). Up to Ubuntu 24.04 networkd is part of the boot anyway; with netplan 1.2 it is
  # only wanted through what the local stage's `netplan generate` wrote, after the boot's start
  # jobs were queued. The lab starts it there, once the local stage is done, as the activation
  # would.
  cat >"$p/cloud-init-local.conf" <<'UNIT'
[Service]
ExecStartPost=-/bin/sh -c 'systemctl is-enabled --quiet systemd-networkd.service && systemctl start --no-block systemd-networkd.service'
UNIT
}

# machine_platform TDIR sets nspawn_extra_args to the bind mounts of the machine's platform.
machine_platform() {
  local p=$1/platform
  # /run/systemd and /run/systemd/system tmpfs of the container's root (nspawn gives its tmpfs
  # mounts the container's root), or the folders nspawn makes for the mount points would be the
  # host's, where PID 1 and netplan could not write.
  nspawn_extra_args=(
    --tmpfs=/run/systemd:mode=0755
    --tmpfs=/run/systemd/system:mode=0755
    --bind-ro="$p:/run/golden-lab/platform"
    --bind-ro="$p/golden-lab-platform.service:/run/systemd/system/golden-lab-platform.service"
    --bind-ro="$p/sysinit.conf:/run/systemd/system/sysinit.target.d/golden-lab-platform.conf"
    --bind-ro="$p/netplan-configure.conf:/run/systemd/system/netplan-configure.service.d/golden-lab-platform.conf"
    --bind-ro="$p/cloud-init-local.conf:/run/systemd/system/cloud-init-local.service.d/golden-lab-platform.conf"
  )
}

# supervise_machine NAME: like supervise, for a machine: the container's end of the veth is
# ens5, the host's end gets the DHCP server for the length of each boot.
supervise_machine() {
  local name=$1 tdir k rc pid watcher boot=0
  tdir=$(target_dir "$name")
  k=$(cat "$tdir/slot")
  join_cgroups "$name"
  watch_owner "$tdir" "$$" &
  watcher=$!
  [[ -f $tdir/boot ]] && boot=$(cat "$tdir/boot")
  machine_platform "$tdir"
  while :; do
    forget_nspawn_state "$(machine_name "$name")"
    teardown_network "$k"
    rm -f "$tdir/network.ready" "$tdir/dhcp.leases"
    boot_container "$name" "$machine_nic"
    boot=$((boot + 1))
    echo "$boot" >"$tdir/boot"
    dhcp_pid=''
    if configure_machine_link "$k" "$pid"; then
      nsenter --target "$(container_init "$pid")" --net ip -br link show "$machine_nic" |
        awk '{ print $3 }' >"$tdir/mac" || true
      start_dhcp "$tdir" "$k"
      echo "$boot" >"$tdir/network.ready"
    else
      echo "machine: could not configure the link of boot $boot" >&2
    fi
    rc=0
    wait "$pid" || rc=$?
    if [[ -n $dhcp_pid ]]; then
      kill "$dhcp_pid" 2>/dev/null || true
      wait "$dhcp_pid" 2>/dev/null || true
    fi
    [[ $rc == 133 && ! -e $tdir/stopping ]] || break
    echo "machine: reboot requested, booting again" >&2
  done
  kill "$watcher" 2>/dev/null || true
  echo "machine: powered off (container status $rc)" >&2
  teardown_network "$k"
  if [[ -e $tdir/orphaned ]]; then
    echo "machine: its owner is gone: discarding $name" >&2
    leave_cgroups "$name"
    exec "$script" stop "$name"
  fi
}

# put_file ROOT PATH MODE UID: stdin into ROOT/PATH, owned by UID as the container sees it.
put_file() {
  local file=$1/$2 owner=$((recipe_uid_base + $4))
  cat >"$file.lab-new"
  chmod "$3" "$file.lab-new"
  chown "$owner:$owner" "$file.lab-new"
  mv -f "$file.lab-new" "$file"
}

# mount_machine_disk TDIR IMAGE SLOT LAYER...: the overlay of the image, the layers (oldest first,
# so the newest ends up on top) and the machine's upper folder; and the apt proxy of its link,
# which stands in for the EC2 region's mirror.
mount_machine_disk() {
  local tdir=$1 image=$2 k=$3 lower=$2/rootfs l
  shift 3
  for l in "$@"; do lower=$(layers_dir)/$l/disk:$lower; done
  mkdir -p "$tdir/upper" "$tdir/work" "$tdir/root"
  chown "$recipe_uid_base:$recipe_uid_base" "$tdir/upper"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$tdir/upper,workdir=$tdir/work" "$tdir/root"
  {
    printf 'Acquire::http::Proxy "http://%s:%s/";\n' "$(slot_host_ip "$k")" "$proxy_port"
    printf 'Acquire::https::Proxy "http://%s:%s/";\n' "$(slot_host_ip "$k")" "$proxy_port"
  } | put_file "$tdir/root" etc/apt/apt.conf.d/90golden-lab-proxy 0644 0
}

# power_on NAME: nft table, supervisor, wait for the link, apt proxy. The caller holds NAME's lock.
power_on() {
  local name=$1 tdir supervisor deadline=$((SECONDS + boot_timeout))
  tdir=$(target_dir "$name")
  rm -f "$tdir/stopped" "$tdir/stopping" "$tdir/network.ready"
  apply_nft "$name"
  detach "$tdir/console.log" "$script" _supervise "$name"
  supervisor=$last_pid
  echo "$supervisor" >"$tdir/supervisor.pid"
  wait_for_network "$name" "$supervisor" "$deadline" || die "machine $name: the container did not start"
  [[ -n $(proxy_pids "$tdir") ]] || start_proxy_for "$tdir" "$(cat "$tdir/slot")"
}

# start_proxy_for TDIR SLOT: the apt proxy, allowed the mirror hosts of the machine's image.
start_proxy_for() {
  mirror_hosts_override=$(awk '{ print $2 }' "$(cat "$1/image")/sources.list" |
    sed -E 's#^[a-z+]+://([^/@]*@)?##; s#[:/].*$##' | sort -u)
  sources_https=$(grep -c ' https://' "$(cat "$1/image")/sources.list" || true)
  start_proxy "$1" "$2"
}

# power_off NAME: an orderly poweroff; the disk, the address slot and the overlay mount stay.
power_off() {
  local name=$1 tdir i
  tdir=$(target_dir "$name")
  touch "$tdir/stopping"
  if pid_alive "$tdir/nspawn.pid" systemd-nspawn; then
    kill -TERM "$(cat "$tdir/nspawn.pid")" 2>/dev/null || true
  fi
  for ((i = 0; i < 300; i++)); do
    supervisor_alive "$name" || break
    ((i == 150)) && kill -KILL "$(cat "$tdir/nspawn.pid")" 2>/dev/null
    sleep 0.1
  done
  stop_proxy "$tdir"
  remove_nft "$(cat "$tdir/slot")"
  teardown_network "$(cat "$tdir/slot")"
  rm -f "$tdir/network.ready" "$tdir/dhcp.leases" "$tdir/stopping"
  touch "$tdir/stopped"
}

# start_machine NAME OS IMDS INGRESS OWNER LAYER...: a new machine, booting.
start_machine() {
  local name=$1 os=$2 imds=$3 ingress=$4 owner=$5 l tdir
  shift 5
  tdir=$(target_dir "$name")
  lock name_lock "$(name_lock_path "$name")"
  if [[ -d $tdir ]]; then
    log "removing what a previous run of $name left"
    stop_target "$name"
  fi
  reap_targets
  reap_layers
  for l in "$@"; do
    [[ $l =~ ^l-[0-9a-f]{16}$ && -f $(layers_dir)/$l/complete ]] || die "no disk layer $l"
  done
  ingress_rules_nft "$ingress" >/dev/null
  ensure_cloud_image "$os"
  trap 'show_logs "$name" >&2; stop_target "$name"' EXIT
  mkdir -p "$tdir"
  echo "$os" >"$tdir/os"
  echo "$image" >"$tdir/image"
  printf '%s\n' "$@" >"$tdir/layers"
  echo "$imds" >"$tdir/imds"
  printf '%s\n' "$ingress" >"$tdir/ingress"
  echo 22 >"$tdir/port"
  if [[ -n $owner ]]; then
    echo "$owner $(proc_start_time "$owner" || die "owner process $owner is not running")" >"$tdir/owner"
  fi
  write_platform "$tdir"
  claim_slot "$name"
  echo "$slot" >"$tdir/slot"
  mount_machine_disk "$tdir" "$image" "$slot" "$@"
  unlock image_lock
  power_on "$name"
  cloud_os_vars "$(cloud_release "$os")"
  cat >"$tdir/info" <<INFO
name=$name
host=$(slot_target_ip "$slot")
host_address=$(slot_host_ip "$slot")
mac=$(cat "$tdir/mac")
port=22
user=$os_user
dir=$tdir
console=$tdir/console.log
proxy=http://$(slot_host_ip "$slot"):$proxy_port
INFO
  trap - EXIT
  unlock name_lock
  print_info "$name"
}

# machine_command NAME COMMAND: stop, start or reboot an existing machine under its lock.
machine_command() {
  local name=$1 tdir boot i
  tdir=$(target_dir "$name")
  valid_name "$name" || die "invalid machine name '$name'"
  lock name_lock "$(name_lock_path "$name")"
  is_machine "$name" || die "no machine $name"
  case $2 in
    stop)
      [[ -f $tdir/stopped ]] || power_off "$name" ;;
    boot)
      [[ -f $tdir/stopped ]] || die "machine $name is not stopped"
      power_on "$name" ;;
    reboot)
      if [[ -f $tdir/stopped ]] || ! supervisor_alive "$name"; then die "machine $name is not running"; fi
      boot=$(cat "$tdir/boot")
      # SIGINT asks the container's systemd for ctrl-alt-del.target: a reboot, as the ACPI signal of
      # EC2's RebootInstances does on a VM.
      kill -INT "$(container_init "$(cat "$tdir/nspawn.pid")")" || die "machine $name has no init"
      for ((i = 0; i < boot_timeout * 10; i++)); do
        [[ $(cat "$tdir/network.ready" 2>/dev/null) -gt $boot ]] && break
        supervisor_alive "$name" || die "machine $name powered off instead of rebooting"
        sleep 0.1
      done
      ((i < boot_timeout * 10)) || die "machine $name did not reboot within ${boot_timeout}s" ;;
  esac
  unlock name_lock
}

# capture_disk NAME OWNER: copies the machine's upper folder into a new layer and prints its id.
# A running machine's disk is flushed first (crash-consistent, as CreateImage's NoReboot): its
# processes keep going during the copy, so a file the copy listed may be gone when it comes to read
# it. Such a file is left out (it was absent at some moment of the capture, as in a crash); any
# other error of the copy fails the capture.
capture_disk() {
  local name=$1 owner=$2 tdir id dir errs
  tdir=$(target_dir "$name")
  is_machine "$name" || die "no machine $name"
  id=l-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  dir=$(layers_dir)/$id
  mkdir -p "$dir.partial"
  [[ -n $owner ]] && echo "$owner $(proc_start_time "$owner")" >"$dir.partial/owner"
  mountpoint -q "$tdir/root" && sync -f "$tdir/root"
  if ! errs=$(cp -a --reflink=auto "$tdir/upper" "$dir.partial/disk" 2>&1); then
    mountpoint -q "$tdir/root" &&
      ! grep -vE "^cp: cannot (stat|open|access) '$tdir/upper/.*: No such file or directory$" <<<"$errs" | grep -q . ||
      die "copying the disk of $name: $errs"
  fi
  echo "$name" >"$dir.partial/source"
  mv "$dir.partial" "$dir"
  touch "$dir/complete"
  echo "$id"
}

layer_in_use() { grep -qF "$(layers_dir)/$1/disk" /proc/self/mountinfo; }

release_layer() {
  local id=$1
  [[ $id =~ ^l-[0-9a-f]{16}$ ]] || die "invalid layer id '$id'"
  layer_in_use "$id" && die "layer $id is in use by a machine's disk"
  rm -rf --one-file-system "$lab/layers/${id:?}"
}

# reap_layers: deletes layers whose owner is gone (and unfinished copies), unless a disk uses them.
reap_layers() {
  local d id
  for d in "$(layers_dir)"/l-*; do
    [[ -d $d ]] || continue
    id=$(basename "$d")
    owner_alive "$d" && continue
    layer_in_use "${id%.partial}" && continue
    rm -rf --one-file-system "$d"
  done
}

# keeper OWNER STARTED: waits for the owner process to end, then stops its machines (running or
# stopped) and deletes its layers: what a killed test binary or simulator cannot clean up itself.
keeper() {
  local owner=$1 started=$2 n o s
  while [[ $(proc_start_time "$owner") == "$started" ]]; do sleep 1; done
  for n in $(running_targets); do
    read -r o s <"$(target_dir "$n")/owner" 2>/dev/null || continue
    [[ $o == "$owner" && $s == "$started" ]] || continue
    lock other_lock "$(name_lock_path "$n")"
    stop_target "$n"
    unlock other_lock
  done
  reap_layers
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

# parse_start_args: NAME, --packages, --port, --owner into the globals name, packages, port, owner.
parse_start_args() {
  name=dev packages='' port=22 owner=''
  while (($#)); do
    case $1 in
      --packages) packages=${2:?--packages needs a list}; shift 2 ;;
      --packages=*) packages=${1#*=}; shift ;;
      --port) port=${2:?--port needs a number}; shift 2 ;;
      --port=*) port=${1#*=}; shift ;;
      --owner) owner=${2:?--owner needs a pid}; shift 2 ;;
      --owner=*) owner=${1#*=}; shift ;;
      -*) die "unknown option $1" ;;
      *) name=$1; shift ;;
    esac
  done
  valid_name "$name" || die "invalid target name '$name' (want [a-z0-9][a-z0-9-]{0,39})"
  if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then die "invalid port $port"; fi
  if [[ -n $owner ]] && ! [[ $owner =~ ^[1-9][0-9]*$ ]]; then die "invalid owner pid $owner"; fi
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
      unlock image_lock
      echo "$image"
      ;;
    start)
      require_root
      ensure_host_packages
      ensure_host_limits
      load_host_apt_config
      parse_start_args "$@"
      local -a pkgs
      mapfile -t pkgs < <(package_list "$packages")
      start_target "$name" "$port" "$owner" "${pkgs[@]}"
      ;;
    reset)
      require_root
      ensure_host_limits
      load_host_apt_config
      local name=${1:-dev} tdir port=22 owner=''
      local -a pkgs=()
      tdir=$(target_dir "$name")
      [[ -f $tdir/port ]] && port=$(cat "$tdir/port")
      [[ -f $tdir/packages ]] && mapfile -t pkgs < <(grep . "$tdir/packages" || true)
      [[ -f $tdir/owner ]] && read -r owner _ <"$tdir/owner"
      start_target "$name" "$port" "$owner" "${pkgs[@]}"
      ;;
    stop)
      require_root
      local -a names=("$@")
      [[ ${1:-} == --all ]] && mapfile -t names < <(running_targets)
      ((${#names[@]})) || [[ ${1:-} == --all ]] || die "usage: $0 stop NAME... | --all"
      local n
      for n in "${names[@]}"; do
        valid_name "$n" || die "invalid target name '$n'"
        lock name_lock "$(name_lock_path "$n")"
        stop_target "$n"
        unlock name_lock
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
        owner_alive "$(target_dir "$n")" || state="$state, owner gone (stopping)"
        printf '%-40s %s\n' "$n" "$state"
      done
      ;;
    logs)
      show_logs "${1:-dev}"
      ;;
    clean)
      require_root
      "$script" stop --all
      # slots/: where older versions of this script recorded address slots.
      rm -rf "$images" "$lab/slots"
      log "removed every target and cached image"
      ;;
    _supervise)
      if is_machine "$1"; then supervise_machine "$1"; else supervise "$1"; fi
      ;;
    image)
      require_root
      ensure_host_packages
      load_host_apt_config
      local force=''
      [[ ${1:-} == --force ]] && { force=--force; shift; }
      ensure_cloud_image $force "${1:?usage: $0 image [--force] OS}"
      unlock image_lock
      echo "$image"
      ;;
    vm-image)
      require_root
      ensure_host_packages
      load_host_apt_config
      ensure_vm_image "${1:?usage: $0 vm-image OS}"
      unlock image_lock
      echo "$image"
      ;;
    images)
      printf '%s\n' "${cloud_oses[@]}"
      ;;
    machine-start)
      require_root
      ensure_host_packages
      ensure_host_limits
      load_host_apt_config
      local name='' os='' imds='' ingress='' owner='' layers=''
      while (($#)); do
        case $1 in
          --os) os=${2:?}; shift 2 ;;
          --imds) imds=${2:?}; shift 2 ;;
          --ingress) ingress=${2?}; shift 2 ;;
          --owner) owner=${2:?}; shift 2 ;;
          --layers) layers=${2?}; shift 2 ;;
          -*) die "unknown option $1" ;;
          *) name=$1; shift ;;
        esac
      done
      valid_name "$name" || die "invalid machine name '$name'"
      cloud_os_vars "$(cloud_release "$os")"
      [[ $imds =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+$ ]] || die "--imds must be a 127.x.y.z:PORT address"
      [[ -z $owner || $owner =~ ^[1-9][0-9]*$ ]] || die "invalid owner pid $owner"
      local -a ls=()
      IFS=',' read -r -a ls <<<"$layers"
      start_machine "$name" "$os" "$imds" "$ingress" "$owner" "${ls[@]}"
      ;;
    machine-stop | machine-boot | machine-reboot)
      require_root
      load_host_apt_config
      machine_command "${1:?usage: $0 $cmd NAME}" "${cmd#machine-}"
      ;;
    machine-terminate)
      require_root
      "$script" stop "${1:?usage: $0 machine-terminate NAME}"
      ;;
    capture)
      require_root
      local owner=''
      [[ ${2:-} == --owner ]] && owner=${3:?}
      capture_disk "${1:?usage: $0 capture NAME [--owner PID]}" "$owner"
      ;;
    release-layer)
      require_root
      release_layer "${1:?usage: $0 release-layer LAYER}"
      ;;
    ingress)
      require_root
      lock name_lock "$(name_lock_path "${1:?usage: $0 ingress NAME RULES}")"
      is_machine "$1" || die "no machine $1"
      set_ingress "$1" "${2-}"
      unlock name_lock
      ;;
    keeper)
      require_root
      [[ ${1:-} == --owner && ${2:-} =~ ^[1-9][0-9]*$ ]] || die "usage: $0 keeper --owner PID"
      local started
      started=$(proc_start_time "$2") || die "owner process $2 is not running"
      mkdir -p "$lab"
      detach "$lab/keeper.log" "$script" _keeper "$2" "$started"
      echo "$last_pid"
      ;;
    _keeper)
      keeper "$1" "$2"
      ;;
    _customize)
      customize_cloud_rootfs "$1" "$2"
      ;;
    _customize_vm)
      customize_vm_rootfs "$1" "$2"
      ;;
    help | -h | --help)
      sed -n '2,/^set -euo/p' "$script" | sed '$d; s/^# \{0,1\}//'
      ;;
    *)
      die "unknown command $cmd (try: $0 help)"
      ;;
  esac
}

# On one line, so bash has read all of it before main runs: a supervisor running for hours must
# not read on in a script that was edited meanwhile.
main "$@"; exit
