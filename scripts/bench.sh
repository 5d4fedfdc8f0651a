#!/usr/bin/env bash
# `make bench`: the speed and memory figures, each suite printing its own table.
# Benchmarks run outside `make test` because their timings depend on the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local GOLDEN_BENCH=1

status=0
for suite in bench/*/; do
  echo "==> ${suite%/}"
  # -v prints the tables the suites log; the summary line of go test closes each suite.
  go test -count=1 -timeout 30m -v -run 'Benchmark' -bench . -benchmem "./${suite%/}" |
    grep -vE '^(=== RUN|=== PAUSE|=== CONT|--- PASS: Test)' || status=1
done
exit $status
