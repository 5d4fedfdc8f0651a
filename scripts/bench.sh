#!/usr/bin/env bash
# `make bench` / `make bench-quick`: every suite under bench/, each measurement GOLDEN_BENCH_RUNS
# times (default 5; bench-quick: 1), merged into one table that is printed and written to
# bench/results/ (a JSON file per run, latest.md for the README). Benchmarks run outside `make test`
# because their timings depend on the machine's load; the table says the load and what was cached.
#
# Nothing is built while a suite runs: the plugin and every suite's test binary are built first,
# once (kept in .cache/bench/, so that a second run relinks only what changed), and the lab's images
# the suites boot are cached beforehand (`make bench-tools`, bench/README.md). The suites run one
# after the other, never at once: their timings would mix. The time of each step is printed last.
#
# usage: scripts/bench.sh [SUITE...]    (default: every folder of bench/ with tests)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local GOLDEN_BENCH=1
export GOLDEN_BENCH_RUNS=${GOLDEN_BENCH_RUNS:-5}

suites=("$@")
if ((${#suites[@]} == 0)); then
  for d in bench/*/; do
    d=${d%/}
    # bench-quick leaves out the lab's own budgets (machines: no claim of the project, a minute
    # and a half); `scripts/bench.sh machines` runs them.
    [[ $d == bench/machines && $GOLDEN_BENCH_RUNS == 1 ]] && continue
    compgen -G "$d/*_test.go" >/dev/null && suites+=("$(basename "$d")")
  done
fi

# GOLDEN_BENCH_OUT, when set, keeps every suite's JSON there (to merge runs of several suites later
# with `go run ./bench/cmd/benchreport merge DIR bench/results`).
if [[ -n ${GOLDEN_BENCH_OUT:-} ]]; then
  out=$GOLDEN_BENCH_OUT
  mkdir -p "$out"
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
export GOLDEN_BENCH_OUT=$out

started=$SECONDS
steps=()
# step NAME CMD...: runs CMD and notes how long it took.
step() {
  local name=$1 at=$SECONDS rc=0
  shift
  "$@" || rc=$?
  steps+=("$name $((SECONDS - at)) s")
  return $rc
}

build=.cache/bench
mkdir -p "$build/bin"
report=$build/bin/benchreport
plugin=$PWD/$build/packer-plugin-golden
# shellcheck disable=SC2317 # builds and run_suite run through step
builds() {
  go build -o "$report" ./bench/cmd/benchreport
  # Built as a release is (.goreleaser.yml): without the symbol table and DWARF, which packer
  # would checksum and page in at each of its several starts of the plugin per build.
  go build -trimpath -o "$plugin" -ldflags "-s -w $("$report" ldflags)" .
  go test -c -o "$build/bin/" "${suites[@]/#/./bench/}"
}
step build builds
# Every suite's packer installs this build (test/e2e/lab, PluginBinaryEnv) instead of its own.
export GOLDEN_E2E_PLUGIN_BINARY=$plugin
"$report" env "$out"

# Go's own benchmarks (ns/op, allocations) only in the full run: they take seconds each.
bench_flags=()
((GOLDEN_BENCH_RUNS > 1)) && bench_flags=(-test.bench . -test.benchmem)

# shellcheck disable=SC2317
run_suite() {
  local suite=$1
  # A test binary runs in its package's folder, as `go test` runs it. -v prints what the suites log
  # while they run; the merged table comes at the end.
  (cd "bench/$suite" && "../../$build/bin/$suite.test" -test.count=1 -test.timeout=90m -test.v \
    -test.run 'Benchmark' "${bench_flags[@]}") |
    grep -vE '^(=== RUN|=== PAUSE|=== CONT|--- PASS: Test)'
  return "${PIPESTATUS[0]}"
}

status=0
for suite in "${suites[@]}"; do
  echo "==> bench/$suite (runs: $GOLDEN_BENCH_RUNS, load $(cut -d' ' -f1-3 /proc/loadavg))"
  step "$suite" run_suite "$suite" || status=1
done
"$report" merge "$out" bench/results || status=1
echo "bench: ${steps[*]/%/,} total $((SECONDS - started)) s (load $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
exit $status
