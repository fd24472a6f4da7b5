#!/usr/bin/env bash
# checkpatch.pl --strict on every patch of the series, from the cached kernel
# tree. Prints one tsv row per patch (suite "lint").
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"

src=$(uoom_srcdir)
[[ -x $src/scripts/checkpatch.pl ]] || "$UOOM_TOP/tools/kernel-build.sh" normal >/dev/null
while IFS= read -r p; do
	name=${p##*/}
	if out=$(perl "$src/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types \
		"$p" 2>&1); then
		printf 'lint\tcheckpatch %s\tPASS\t\n' "$name"
	else
		printf '%s\n' "$out" >&2
		printf 'lint\tcheckpatch %s\tFAIL\t%s\n' "$name" "$(grep -m1 -E '^(ERROR|WARNING|CHECK)' <<<"$out")"
	fi
done < <(uoom_series)
