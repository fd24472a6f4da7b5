#!/usr/bin/env bash
# Print the results of a check run: skips with their reason, a table per
# suite, the failures with their reason (last, so that the tail of a CI log
# shows them), then the one closing line "N passed, N failed, N skipped".
# Exits non-zero when anything failed or nothing ran.
set -euo pipefail
results=${1:?usage: tools/summary.sh RESULTS_DIR}
cat "$results"/*.tsv 2>/dev/null >"$results/all.tsv.txt" || true
all=$results/all.tsv.txt

if awk -F'\t' '$3 == "SKIP"' "$all" | grep -q .; then
	echo
	echo "Skipped:"
	awk -F'\t' '$3 == "SKIP" { printf "  %-28s %s: %s\n", $1, $2, $4 }' "$all"
fi
echo
awk -F'\t' '
	{ n[$1, $3]++; if (!($1 in order)) { order[$1] = ++k; name[k] = $1 } }
	END {
		printf "%-28s %7s %7s %7s\n", "suite", "passed", "failed", "skipped"
		for (i = 1; i <= k; i++) {
			x = name[i]
			printf "%-28s %7d %7d %7d\n", x, n[x, "PASS"], n[x, "FAIL"], n[x, "SKIP"]
		}
	}' "$all"
if awk -F'\t' '$3 == "FAIL"' "$all" | grep -q .; then
	echo
	echo "Failed (the logs are in $results):"
	awk -F'\t' '$3 == "FAIL" { printf "  %-28s %s  %s\n", $1, $2, $4 }' "$all"
fi
p=$(awk -F'\t' '$3 == "PASS"' "$all" | wc -l)
f=$(awk -F'\t' '$3 == "FAIL"' "$all" | wc -l)
s=$(awk -F'\t' '$3 == "SKIP"' "$all" | wc -l)
echo
echo "$p passed, $f failed, $s skipped"
[[ $f -eq 0 && $p -gt 0 ]]
