#!/usr/bin/env bash
# `make demo`: the whole pipeline of example/demo.pkr.hcl with the real packer binary, on this
# machine, without AWS: the AWS simulator (cmd/golden-awssim) boots every instance as a lab machine
# (docs/test-lab.md), seeded from example/demo-seed.json with the fleet golden-lifecycle prunes.
# Then it prints where the reports are and a summary read from them and from the simulator.
#
# Everything it starts it stops again: on success, on failure and on Ctrl-C (packer first, which
# cleans up its instances, key pairs and groups; then the simulator, which terminates its machines).
# GOLDEN_DEMO_DIR is its working folder (default .cache/demo), emptied at each run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${GOLDEN_DEMO_DIR:-$root/.cache/demo}
reports=$work/reports
regions=us-east-1,us-west-2,eu-west-1

export GOTOOLCHAIN=local CHECKPOINT_DISABLE=1
export PACKER_PLUGIN_PATH=$work/plugins PACKER_CONFIG_DIR=$work/config PACKER_CACHE_DIR=$work/cache
packer=$root/.tools/packer
[[ -x $packer ]] || scripts/tools.sh packer

# stop_sim PID: SIGTERM, as Ctrl-C would (the simulator terminates its machines and releases their
# disks), and SIGKILL after 2 minutes (the lab's keeper then removes the machines).
stop_sim() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 600); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.2
  done
  echo "demo: the simulator did not stop within 2 minutes; killing it (the lab removes its machines)" >&2
  kill -KILL "$1" 2>/dev/null || true
}

sim_pid='' sim_ready=''
cleanup() {
  local status=$?
  # A second Ctrl-C must not cut the stop short; the lab's keeper would still remove the
  # simulator's machines once it is gone, seconds later.
  trap '' INT TERM HUP
  if [[ -n $sim_pid ]]; then
    if ((status != 0)) && [[ -n $sim_ready ]]; then
      "$work/bin/golden-demo-summary" -leftovers "$regions" -wait 1m || true
    fi
    echo "==> stopping the simulator and its machines"
    stop_sim "$sim_pid"
    wait "$sim_pid" 2>/dev/null || true
    rm -f "$work/awssim.pid"
    echo "    stopped"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

step_started=$(date +%s)
step() {
  local now
  now=$(date +%s)
  echo "    ($((now - step_started))s)"
  step_started=$now
  echo "==> $*"
}

# A run killed with SIGKILL could not stop its simulator (in a session of its own, below).
if [[ -f $work/awssim.pid ]]; then
  old=$(cat "$work/awssim.pid")
  if [[ $(tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null) == "$work/bin/golden-awssim "* ]]; then
    echo "==> stopping the simulator of an earlier run (pid $old)"
    stop_sim "$old"
  fi
fi

echo "==> building the plugin, the simulator and the summary"
rm -rf "$work"
mkdir -p "$work/bin" "$reports"
# Side by side: with a warm build cache each build is mostly its link, which uses one core.
go build -trimpath -o "$work/bin/packer-plugin-golden" . &
plugin_build=$!
tools_built=0
go build -o "$work/bin/" ./cmd/golden-awssim ./cmd/golden-demo-summary || tools_built=$?
wait "$plugin_build"
((tools_built == 0)) || exit "$tools_built"
"$packer" plugins install --path "$work/bin/packer-plugin-golden" github.com/golden-ami/golden >/dev/null

step "starting the AWS simulator with lab machines"
# In a session of its own: Ctrl-C reaches packer, which cleans up through the simulator, and this
# script stops the simulator afterwards.
(exec setsid "$work/bin/golden-awssim" -listen 127.0.0.1:0 -quiet -machines -lab-repo "$root" \
  -seed example/demo-seed.json >"$work/awssim.out" 2>"$work/awssim.log" </dev/null) &
sim_pid=$!
echo "$sim_pid" >"$work/awssim.pid"
url=
for _ in $(seq 600); do
  url=$(sed -n 's/^golden-awssim listening on //p' "$work/awssim.out")
  [[ -n $url ]] && grep -q '^machines: ' "$work/awssim.out" && break
  kill -0 "$sim_pid" 2>/dev/null || break
  sleep 0.2
done
if [[ -z $url ]] || ! grep -q '^machines: ' "$work/awssim.out"; then
  echo "demo: the simulator did not start:" >&2
  cat "$work/awssim.log" >&2
  exit 1
fi
export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=AKIDSIMULATOR AWS_SECRET_ACCESS_KEY=simulator
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=$work/aws/config AWS_SHARED_CREDENTIALS_FILE=$work/aws/credentials
sim_ready=1
echo "    $url (pid $sim_pid), $(sed -n 's/^machines: //p' "$work/awssim.out")"

step "packer validate example/demo.pkr.hcl"
vars=(-var "report_dir=$reports")
"$packer" validate "${vars[@]}" example/demo.pkr.hcl

step "packer build example/demo.pkr.hcl"
color=false
[[ -t 1 ]] && color=true
# tee -i: Ctrl-C stops packer's build, which then cleans up and still writes to the terminal.
"$packer" build -timestamp-ui -color=$color "${vars[@]}" example/demo.pkr.hcl 2>&1 | tee -i "$work/packer.log"

step "summary"
"$work/bin/golden-demo-summary" -reports "$reports" -log "$work/packer.log" -json "$work/summary.json"
