#!/usr/bin/env bash
# Installs, on a Debian 12 machine, the system packages the build, the tests and the demo need.
# Safe to run again: it only installs what is missing. The pinned Go tools (packer, packer-sdc, the
# official amazon plugin) are `make tools`' job; `make prepare` runs both.
# `scripts/setup.sh vm` installs only what the optional VM suite (`make e2e-vm`) adds: qemu, its
# disk tool and genisoimage for cloud-init's NoCloud seed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == vm ]]; then
  need=(qemu-system-x86 qemu-utils genisoimage)
else
  need=(mmdebstrap systemd-container tinyproxy-bin iproute2 dnsmasq-base nftables curl shellcheck make git openssh-client unzip)
fi
missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "setup: missing packages ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v go >/dev/null || { echo "setup: Go is required (go.mod says which version)" >&2; exit 1; }
