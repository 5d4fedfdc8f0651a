#!/bin/sh
# AWS CLI version 2 from AWS's installer (distributions ship version 1, or none: Ubuntu 24.04 and
# later carry it only as a snap). Run as root.
set -eu
if ! command -v unzip >/dev/null || ! command -v curl >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl unzip >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL -o "$work/awscliv2.zip" "https://awscli.amazonaws.com/awscli-exe-linux-$(uname -m).zip"
unzip -q "$work/awscliv2.zip" -d "$work"
"$work/aws/install" --update >/dev/null
aws --version
