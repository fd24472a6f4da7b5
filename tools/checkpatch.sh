#!/usr/bin/env bash
# checkpatch.pl --strict on every patch of the series, from the cached kernel
# tree. Prints one tsv row per patch (suite "lint", test "checkpatch NAME");
# tools/check.sh checks that there is exactly one per patch.
#   tools/checkpatch.sh [--no-build]
# Without the kernel tree it builds it (tools/kernel-build.sh normal); with
# --no-build (make check --no-vm) every patch is a SKIP row instead.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

build=1
[[ ${1:-} == --no-build ]] && build=0
# Read first: a series that names a missing patch stops here, not mid-loop.
series=$(uoom_series)
src=$(uoom_srcdir normal)
if [[ ! -x $src/scripts/checkpatch.pl ]]; then
	if [[ $build -eq 0 ]]; then
		while IFS= read -r p; do
			printf 'lint\tcheckpatch %s\tSKIP\tno kernel tree (%s) and --no-build: tools/kernel-build.sh fetches it\n' \
				"${p##*/}" "$src"
		done <<<"$series"
		exit 0
	fi
	"$UOOM_TOP/tools/kernel-build.sh" normal >/dev/null
fi
while IFS= read -r p; do
	name=${p##*/}
	if out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
		"$p" 2>&1); then
		printf 'lint\tcheckpatch %s\tPASS\t\n' "$name"
	else
		printf '%s\n' "$out" >&2
		printf 'lint\tcheckpatch %s\tFAIL\t%s\n' "$name" \
			"$(grep -m1 -E '^(ERROR|WARNING|CHECK)' <<<"$out" | tr '\t' ' ' || echo "checkpatch.pl failed")"
	fi
done <<<"$series"
