#!/bin/sh
# The last step on the build instance: no package cache, no temporary files and no shell history
# in the image (golden-validate's no_build_leftovers checks the histories on the booted image).
# Run as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get autoremove -y -qq >/dev/null
apt-get clean
rm -rf /tmp/* /var/tmp/*
for home in /root /home/*; do
  rm -f "$home/.bash_history" "$home/.python_history" "$home/.lesshst" "$home/.viminfo"
done
