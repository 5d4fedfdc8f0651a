#!/bin/sh
# Removes the build's temporary public key from authorized_keys files, so that the image does not
# trust the build's key. Usage: clear_authorized_keys.sh KEY_BLOB FILE...
# KEY_BLOB is the base64 part of the key: every line holding it goes, whatever options or comment
# cloud-init put around it. A file is rewritten in place (cat >), so its owner, mode and SELinux
# label stay. Prints one line per file it changed; exits 1 if the key is still in a file.
set -eu
key="$1"
shift
status=0
for file in "$@"; do
	[ -f "$file" ] || continue
	grep -qF -- "$key" "$file" || continue
	kept=$(grep -vF -- "$key" "$file" || true)
	if [ -n "$kept" ]; then
		printf '%s\n' "$kept" >"$file"
	else
		: >"$file"
	fi
	if grep -qF -- "$key" "$file"; then
		echo "the temporary key is still in $file" >&2
		status=1
	else
		echo "removed the temporary key from $file"
	fi
done
exit "$status"
