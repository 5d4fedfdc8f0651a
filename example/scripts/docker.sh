#!/bin/sh
# Docker Engine from Docker's own apt repository, the way Docker documents it for Ubuntu and
# Debian: the repository key in /etc/apt/keyrings, a signed-by source for this machine's
# architecture and release. The user DOCKER_USER (the build user) joins the docker group. When
# Docker's repository cannot be reached or has none for this release yet, the distribution's
# docker.io is installed instead.
# Run as root.
set -eu
# shellcheck source=/dev/null
. /etc/os-release
export DEBIAN_FRONTEND=noninteractive
arch=$(dpkg --print-architecture)
repo="https://download.docker.com/linux/$ID"

apt-get update -qq
apt-get install -y -qq ca-certificates curl >/dev/null
if curl -fsSL -o /dev/null "$repo/dists/$VERSION_CODENAME/Release"; then
  install -m 0755 -d /etc/apt/keyrings
  curl -fsSL "$repo/gpg" -o /etc/apt/keyrings/docker.asc
  chmod a+r /etc/apt/keyrings/docker.asc
  echo "deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] $repo $VERSION_CODENAME stable" \
    >/etc/apt/sources.list.d/docker.list
  apt-get update -qq
  apt-get install -y -qq docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin >/dev/null
else
  echo "docker: $repo cannot be reached or has no $VERSION_CODENAME yet; installing the distribution's docker.io"
  apt-get install -y -qq docker.io >/dev/null
fi
systemctl enable docker.service containerd.service >/dev/null 2>&1
if [ -n "${DOCKER_USER:-}" ]; then
  usermod -aG docker "$DOCKER_USER"
fi
docker --version
