#!/usr/bin/env bash
# `make bench` / `make bench-quick`: every suite under bench/, each measurement GOLDEN_BENCH_RUNS
# times (default 5; bench-quick: 1), merged into one table that is printed and written to
# bench/results/ (a JSON file per run, latest.md for the README). Benchmarks run outside `make test`
# because their timings depend on the machine's load; the table says the load and what was cached.
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
go run ./bench/cmd/benchreport env "$out"

# Go's own benchmarks (ns/op, allocations) only in the full run: they take seconds each.
bench_flags=()
((GOLDEN_BENCH_RUNS > 1)) && bench_flags=(-bench . -benchmem)

status=0
for suite in "${suites[@]}"; do
  echo "==> bench/$suite (runs: $GOLDEN_BENCH_RUNS, load $(cut -d' ' -f1-3 /proc/loadavg))"
  # -v prints what the suites log while they run; the merged table comes at the end.
  go test -count=1 -timeout 90m -v -run 'Benchmark' "${bench_flags[@]}" "./bench/$suite" |
    grep -vE '^(=== RUN|=== PAUSE|=== CONT|--- PASS: Test)' || status=1
done
go run ./bench/cmd/benchreport merge "$out" bench/results || status=1
exit $status
