#!/bin/sh
# The essential packages of the seed playbook's first task, from the distribution's archive
# (awscli is the distribution's version 1; scripts/awscli.sh installs version 2). Run as root.
set -eu
export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
packages="curl wget git vim htop tree unzip jq awscli python3-pip python3-venv apt-transport-https
ca-certificates gnupg lsb-release fail2ban ufw chrony rsyslog"
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $packages >/dev/null
# shellcheck disable=SC2086
dpkg-query -W -f '${Package} ${Version}\n' $packages
