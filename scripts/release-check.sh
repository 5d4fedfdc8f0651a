#!/usr/bin/env bash
# `make release-check`: everything a release does except publishing and signing, then the proof
# that what it produced is a plugin Packer installs and loads.
#
#  1. `goreleaser check` on .goreleaser.yml;
#  2. a snapshot build of every platform the release ships (zips and SHA256SUMS in dist/), versioned
#     from version/version.go (0.1.0 -> 0.1.0-dev: Packer loads no other prerelease);
#  3. this machine's zip: its checksum matches SHA256SUMS, it holds exactly the plugin binary named
#     the way `packer init` expects, `packer-sdc plugin-check` accepts it, `describe` reports the
#     snapshot version;
#  4. `packer plugins install --path` installs it into a private plugin directory, `packer plugins
#     installed` lists it, and `packer validate` loads it for an example template.
#
# The release's before-hooks (unit tests, plugin-check of a local build) are `make test`'s job; this
# check skips them and checks the zip's own binary instead. RELEASE_CHECK_TARGETS=host builds only
# this machine's platform, from the same configuration with its goos/goarch narrowed (the eight
# cross builds take a long time on a busy machine). RELEASE_CHECK_DIST=DIR checks the zips of an
# earlier snapshot build in DIR without building again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=local CHECKPOINT_DISABLE=1

for cmd in unzip sha256sum ssh-keygen; do
  command -v "$cmd" >/dev/null || { echo "release-check: $cmd is required (scripts/setup.sh installs it)" >&2; exit 1; }
done
scripts/tools.sh goreleaser
scripts/tools.sh packer
scripts/tools.sh packer-sdc
goreleaser=$root/.tools/goreleaser
packer=$root/.tools/packer
sdc=$root/.tools/packer-sdc

fail() { echo "release-check: $*" >&2; exit 1; }

version=$(sed -n 's/^[[:space:]]*Version = "\([^"]*\)"$/\1/p' version/version.go)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "version/version.go: Version = \"$version\" is not MAJOR.MINOR.PATCH"
grep -q "^## $version " CHANGELOG.md || fail "CHANGELOG.md has no \"## $version\" section"

describe=$(go run . describe)
api=$(sed -n 's/.*"api_version":"\([^"]*\)".*/\1/p' <<<"$describe")
[[ -n $api ]] || fail "no api_version in \`describe\`: $describe"
export API_VERSION=$api
# The snapshot's version (.goreleaser.yml, snapshot.version_template).
export PLUGIN_VERSION=$version

goos=$(go env GOOS) goarch=$(go env GOARCH)
targets=${RELEASE_CHECK_TARGETS:-all}
dist=${RELEASE_CHECK_DIST:-$root/dist}
if [[ -z ${RELEASE_CHECK_DIST:-} ]]; then
  echo "==> goreleaser check"
  "$goreleaser" check
  config=.goreleaser.yml
  if [[ $targets == host ]]; then
    config=$(mktemp "${TMPDIR:-/tmp}/goreleaser.XXXXXX.yml")
    sed -e "s/^    goos: \[.*\]$/    goos: [$goos]/" -e "s/^    goarch: \[.*\]$/    goarch: [$goarch]/" .goreleaser.yml >"$config"
    grep -q "goos: \[$goos\]" "$config" || fail "could not narrow the goos of .goreleaser.yml"
    echo "==> goreleaser snapshot build ($goos/$goarch only)"
  else
    echo "==> goreleaser snapshot build (every platform; minutes)"
  fi
  "$goreleaser" release --config "$config" --snapshot --clean --skip=publish,sign,before
fi

snapshot=$version-dev
base=packer-plugin-golden_v${snapshot}_${api}_${goos}_${goarch}
zip=$dist/$base.zip
sums=$dist/packer-plugin-golden_v${snapshot}_SHA256SUMS
[[ -f $zip ]] || fail "no $zip; dist holds: $(ls "$dist")"
[[ -f $sums ]] || fail "no $sums"

echo "==> checking $base.zip"
want=$(awk -v f="$base.zip" '$2 == f {print $1}' "$sums")
got=$(sha256sum "$zip" | cut -d' ' -f1)
[[ -n $want && $want == "$got" ]] || fail "$base.zip: SHA-256 $got, SHA256SUMS says '${want}'"
if [[ $targets != host ]]; then
  for os in linux darwin windows freebsd; do
    for arch in amd64 arm64; do
      f=packer-plugin-golden_v${snapshot}_${api}_${os}_${arch}.zip
      grep -q " $f\$" "$sums" || fail "SHA256SUMS lacks $f"
    done
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/release-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
entries=$(unzip -Z1 "$zip")
[[ $entries == "$base" ]] || fail "$base.zip should hold only $base, holds: $entries"
unzip -q "$zip" -d "$work/unzipped"
bin=$work/unzipped/$base
chmod +x "$bin"
# plugin-check judges the name exactly as given (packer-plugin-*), so it gets the bare file name.
(cd "$work/unzipped" && "$sdc" plugin-check "$base")
reported=$("$bin" describe | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
[[ $reported == "$snapshot" ]] || fail "$base describes itself as version '$reported', want $snapshot"

echo "==> packer plugins install --path"
export PACKER_PLUGIN_PATH=$work/plugins PACKER_CONFIG_DIR=$work/config PACKER_CACHE_DIR=$work/cache
"$packer" plugins install --path "$bin" github.com/golden-ami/golden
installed=$("$packer" plugins installed)
echo "$installed"
grep -q "github.com/golden-ami/golden/${base}\$" <<<"$installed" || fail "packer plugins installed does not list $base"

echo "==> packer validate example/harden.pkr.hcl with the installed build"
ssh-keygen -q -t ed25519 -N '' -f "$work/key"
"$packer" validate -var "key=$work/key" example/harden.pkr.hcl

zips=("$dist"/*.zip)
echo "release-check: $version ok (${#zips[@]} zips; $base installs and loads)"
