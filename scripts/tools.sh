#!/usr/bin/env bash
# Builds the pinned command-line tools the project needs (packer, packer-sdc, goreleaser, and the
# official amazon plugin the end-to-end tests put golden-lifecycle behind, and the official ansible
# provisioner plugin the benchmark compares golden-harden with) from the Go module proxy into .tools/,
# and reuses them when the pinned version is already there. `ansible` installs Debian's ansible
# package on the host (the benchmark's Ansible side; needs root), unless ansible-playbook is there.
#
# The proxy refuses version lists for github.com/hashicorp/* modules, so `go install mod@version`
# fails for them; a throwaway module that requires the exact version and builds the main package
# works, and is what this script does.
#
# usage: scripts/tools.sh packer|packer-sdc|packer-plugin-amazon|packer-plugin-ansible|ansible|goreleaser|all
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

PACKER_VERSION=v1.12.0
SDK_VERSION=$(cd "$root" && go list -m -f '{{.Version}}' github.com/hashicorp/packer-plugin-sdk)
GORELEASER_VERSION=v2.15.1
AMAZON_PLUGIN_VERSION=v1.8.0
ANSIBLE_PLUGIN_VERSION=v1.1.2
GO_CTY_REPLACE='github.com/zclconf/go-cty=github.com/nywilken/go-cty@v1.13.3'

# Built tools are also kept outside the checkout, so that a fresh clone on the same machine (CI)
# copies them instead of building them again: one file per tool, named by a hash of everything the
# build depends on (the pinned module version, the package, the replace, the Go version and
# platform). A missing or unwritable cache only means building.
cache=${GOLDEN_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/packer-plugin-golden/tools}
go_platform=$(go env GOVERSION GOOS GOARCH | tr '\n' ' ')

# build NAME VERSION MODULE PACKAGE [REPLACE]
build() {
  local name=$1 version=$2 module=$3 pkg=$4 replace=${5:-}
  local bin="$tools/$name" stamp="$tools/$name.version" cached
  if [[ -x $bin && -f $stamp && $(cat "$stamp") == "$version" ]]; then
    return 0
  fi
  cached="$cache/$name-$(printf '%s\n' "$version" "$module" "$pkg" "$replace" "$go_platform" | sha256sum | cut -c1-16)"
  if [[ -x $cached ]] && cp "$cached" "$bin.partial" && mv -f "$bin.partial" "$bin"; then
    echo "$version" >"$stamp"
    return 0
  fi
  echo "==> building $name $version from the module proxy (first time only)" >&2
  local src="$tools/src/$name"
  rm -rf "$src" && mkdir -p "$src"
  (
    cd "$src"
    go mod init "tools.local/$name" >/dev/null 2>&1
    [[ -n $replace ]] && go mod edit -replace "$replace"
    go get "$module@$version" >/dev/null
    go build -trimpath -o "$bin" "$pkg"
  )
  echo "$version" >"$stamp"
  if mkdir -p "$cache" 2>/dev/null && cp "$bin" "$cached.partial.$$" 2>/dev/null; then
    mv -f "$cached.partial.$$" "$cached"
  else
    rm -f "$cached.partial.$$"
  fi
}

want=${1:-all}
mkdir -p "$tools"
case $want in
  packer|all)
    build packer "$PACKER_VERSION" github.com/hashicorp/packer github.com/hashicorp/packer "$GO_CTY_REPLACE" ;;&
  packer-sdc|all)
    build packer-sdc "$SDK_VERSION" github.com/hashicorp/packer-plugin-sdk \
      github.com/hashicorp/packer-plugin-sdk/cmd/packer-sdc "$GO_CTY_REPLACE" ;;&
  packer-plugin-amazon|all)
    build packer-plugin-amazon "$AMAZON_PLUGIN_VERSION" github.com/hashicorp/packer-plugin-amazon \
      github.com/hashicorp/packer-plugin-amazon "$GO_CTY_REPLACE" ;;&
  packer-plugin-ansible)
    build packer-plugin-ansible "$ANSIBLE_PLUGIN_VERSION" github.com/hashicorp/packer-plugin-ansible \
      github.com/hashicorp/packer-plugin-ansible "$GO_CTY_REPLACE" ;;
  ansible)
    if ! command -v ansible-playbook >/dev/null; then
      echo "==> installing Debian's ansible package (first time only)" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ansible >/dev/null
    fi ;;
  goreleaser)
    build goreleaser "$GORELEASER_VERSION" github.com/goreleaser/goreleaser/v2 github.com/goreleaser/goreleaser/v2 ;;
  packer|packer-sdc|packer-plugin-amazon|all) ;;
  *) echo "usage: $0 packer|packer-sdc|packer-plugin-amazon|packer-plugin-ansible|ansible|goreleaser|all" >&2; exit 2 ;;
esac
