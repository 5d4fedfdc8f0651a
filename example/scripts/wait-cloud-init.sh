#!/bin/sh
# Waits until cloud-init has finished on the build instance: apt is busy until it has, and a
# package installed before it ends can be undone by it. An image without cloud-init passes.
set -eu
if command -v cloud-init >/dev/null 2>&1; then
  cloud-init status --wait >/dev/null || {
    status=$?
    # 2: finished with recoverable errors (a deprecated key in the vendor's user data); go on.
    [ "$status" -eq 2 ] || { cloud-init status --long; exit "$status"; }
  }
fi
echo "cloud-init finished"
