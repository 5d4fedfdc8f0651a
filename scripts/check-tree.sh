#!/usr/bin/env bash
# `make check-tree` (part of `make test`): the committed tree is formatted and generated.
#  - `gofmt -l` prints nothing for the tracked Go files;
#  - `make generate` changes nothing: the working tree's status and diff are the same before and
#    after it, so a change to a struct comment, an HCL2 spec or the control catalogue that was not
#    regenerated and committed fails here, and so does a generator that is not idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(git ls-files -z '*.go' | xargs -0 gofmt -l)
if [[ -n $unformatted ]]; then
  echo "check-tree: gofmt -l lists files that are not formatted (run gofmt -w):" >&2
  echo "$unformatted" >&2
  exit 1
fi

state() { git status --porcelain=v1 --untracked-files=all; git diff --binary; }
before=$(state | sha256sum)
if ! out=$(make --no-print-directory generate 2>&1); then
  echo "$out" >&2
  exit 1
fi
if [[ $(state | sha256sum) != "$before" ]]; then
  echo "check-tree: \`make generate\` changed the tree; commit what it generates:" >&2
  git status --short >&2
  exit 1
fi
echo "check-tree: formatted, and make generate leaves the tree unchanged"
