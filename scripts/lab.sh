#!/usr/bin/env bash
# `make lab`: the images the tests boot, built at the same time: the Debian 12 test target's rootfs
# variants and a cloud image per operating system named on the command line. Each build spends much
# of its time waiting on the package mirror, so building them side by side takes little longer than
# the slowest one. Cached images are reused (test/target/target.sh builds each once, under its own
# lock, and keeps it in GOLDEN_LAB_IMAGES when set), so a second run returns at once.
#
# usage: scripts/lab.sh [OS...]   (OS as `test/target/target.sh images` lists them, or OS+hardening:
#                                 its image with the hardening packages, for the benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."

# The host's packages first: parallel builds would each try to install what is missing at once.
scripts/setup.sh
# The Debian 12 target's variants the end-to-end tests boot: plain, with the hardening packages, and
# with those and what TestHardenModulesB's services controls act on (its modulesBExtraPackages).
builds=("build" "build --packages hardening" "build --packages hardening,at,rsync,telnet,nfs-common")
for os in "$@"; do builds+=("image $os"); done

started=$SECONDS
pids=()
for b in "${builds[@]}"; do
  # shellcheck disable=SC2086 # each build is a target.sh command line
  test/target/target.sh $b &
  pids+=($!)
done
failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("target.sh ${builds[$i]}")
done
if ((${#failed[@]})); then
  printf 'lab: failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "lab: ${#builds[@]} images ready in $((SECONDS - started)) s"
