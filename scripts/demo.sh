#!/usr/bin/env bash
# `make demo`: runs example/demo.pkr.hcl with the real packer binary against the local AWS
# simulator (seeded from example/demo-seed.json) and a Debian 12 test machine, then shows the
# reports. Everything it starts it stops again, also on Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/.cache/demo
mkdir -p "$work"

export GOTOOLCHAIN=local CHECKPOINT_DISABLE=1
export PACKER_PLUGIN_PATH=$work/plugins PACKER_CONFIG_DIR=$work/config PACKER_CACHE_DIR=$work/cache
packer=$root/.tools/packer

sim_pid=
cleanup() {
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  test/target/target.sh stop demo >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "==> building and installing the plugin"
go build -trimpath -o "$work/packer-plugin-golden" .
rm -rf "$PACKER_PLUGIN_PATH"
"$packer" plugins install --path "$work/packer-plugin-golden" github.com/golden-ami/golden

echo "==> starting the Debian 12 target"
target_env=$(test/target/target.sh start demo --packages hardening)
host=$(sed -n 's/^host=//p' <<<"$target_env")
port=$(sed -n 's/^port=//p' <<<"$target_env")
user=$(sed -n 's/^user=//p' <<<"$target_env")
key=$(sed -n 's/^key=//p' <<<"$target_env")

echo "==> starting the AWS simulator"
go build -o "$work/golden-awssim" ./cmd/golden-awssim
"$work/golden-awssim" -listen 127.0.0.1:0 -quiet -instance-address "$host" \
  -seed example/demo-seed.json >"$work/awssim.out" 2>"$work/awssim.log" &
sim_pid=$!
for _ in $(seq 50); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/awssim.out" | head -1 || true)
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n ${url:-} ]] || { echo "demo: the simulator did not start:" >&2; cat "$work/awssim.log" >&2; exit 1; }
export AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=AKIDSIMULATOR AWS_SECRET_ACCESS_KEY=simulator
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
echo "    simulator at $url, target at $user@$host:$port"

vars=(-var "ssh_host=$host" -var "ssh_port=$port" -var "ssh_username=$user"
      -var "ssh_private_key_file=$key" -var "report_dir=$work/reports")
rm -rf "$work/reports"
echo "==> packer validate"
"$packer" validate "${vars[@]}" example/demo.pkr.hcl
echo "==> packer build"
start=$(date +%s)
"$packer" build -color=false "${vars[@]}" example/demo.pkr.hcl
echo "==> finished in $(( $(date +%s) - start ))s; reports in ${work#"$root"/}/reports:"
ls "$work/reports"
echo
sed -n '1,40p' "$work/reports/harden.md"
