#!/usr/bin/env bash
# Turns the rendered docs (packer-sdc renderdocs output) into the .web-docs/ layout that the Packer
# integrations registry reads: README.md at the top and components/<type>/<name>/README.md per
# component. Front matter is dropped: the registry takes titles from metadata.hcl.
#
# usage: scripts/compile-webdocs.sh RENDERED_DIR WEB_DOCS_DIR
set -euo pipefail
src=${1:?rendered docs folder}
dst=${2:?web docs folder}

strip_front_matter() {
  awk 'NR == 1 && /^---$/ { infm = 1; next } infm && /^---$/ { infm = 0; next } !infm' "$1"
}

rm -rf "$dst/components"
mkdir -p "$dst/components"
strip_front_matter "$src/README.md" >"$dst/README.md"

# One page per component listed in metadata.hcl: type "data-source" reads docs/datasources/<slug>.mdx.
declare -A dirs=([builder]=builders [provisioner]=provisioners [post-processor]=post-processors [data-source]=datasources)
awk '/component *{/ { t = ""; s = "" }
     /type *=/ { gsub(/.*= *"|".*/, ""); t = $0 }
     /slug *=/ { gsub(/.*= *"|".*/, ""); s = $0; print t, s }' "$dst/metadata.hcl" |
while read -r kind slug; do
  page="$src/${dirs[$kind]}/$slug.mdx"
  [[ -f $page ]] || { echo "compile-webdocs: $page missing for $kind $slug" >&2; exit 1; }
  mkdir -p "$dst/components/$kind/$slug"
  strip_front_matter "$page" >"$dst/components/$kind/$slug/README.md"
done
